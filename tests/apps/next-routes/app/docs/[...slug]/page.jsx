export default async function Doc({ params }) {
  const { slug } = await params;
  return <h1 id="title">Doc {slug.join('/')}</h1>;
}
