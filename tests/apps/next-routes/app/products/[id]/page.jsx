import Link from 'next/link';

export default async function Product({ params }) {
  const { id } = await params;
  return (
    <>
      <h1 id="title">Product {id}</h1>
      <Link id="docs" href="/docs/guides/setup">Set-up guide</Link>
    </>
  );
}
