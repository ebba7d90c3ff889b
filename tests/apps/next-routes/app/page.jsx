import Link from 'next/link';

export default function Home() {
  return (
    <nav>
      <h1 id="title">Home</h1>
      <Link id="product" href="/products/42">Product 42</Link>
      <Link id="docs" href="/docs/guides/setup">Set-up guide</Link>
    </nav>
  );
}
