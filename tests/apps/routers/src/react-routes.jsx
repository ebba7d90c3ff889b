// React Router in declarative mode (<BrowserRouter>), under a basename,
// with a layout route: <WaggleRoutes> instead of <Routes>.
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Link, Outlet, Route, useParams } from 'react-router';
import { WaggleRoutes } from 'waggle-rum/react-router';
import { start } from './start.js';

function Layout() {
  return (
    <>
      <nav>
        <Link id="go" to="/products/42">Product 42</Link>
      </nav>
      <Outlet />
    </>
  );
}

function Product() {
  const { id } = useParams();
  return <h1 id="title">Product {id}</h1>;
}

start('react-routes');
createRoot(document.getElementById('root')).render(
  <BrowserRouter basename="/react-routes">
    <WaggleRoutes>
      <Route path="/" element={<Layout />}>
        <Route index element={<h1 id="title">Home</h1>} />
        <Route path="products/:id" element={<Product />} />
      </Route>
    </WaggleRoutes>
  </BrowserRouter>,
);
