// React Router in data mode (createBrowserRouter), under a basename, with
// a layout route: trackRouter names each view's route.
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Link, Outlet, RouterProvider, useParams } from 'react-router';
import { trackRouter } from 'waggle-rum/react-router';
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

const router = createBrowserRouter(
  [{ path: '/', element: <Layout />, children: [{ index: true, element: <h1 id="title">Home</h1> }, { path: 'products/:id', element: <Product /> }] }],
  { basename: '/react-data' },
);
trackRouter(router);
start('react-data');
createRoot(document.getElementById('root')).render(<RouterProvider router={router} />);
