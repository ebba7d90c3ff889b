// waggle-rum/react-router: names each view's route for Waggle from React
// Router's matches (setRoute('/products/:id')), right after each
// navigation changed the URL. React Router 6.4 and later.
import { createElement, useEffect } from 'react';
import { Routes, createRoutesFromChildren, matchRoutes, useLocation } from 'react-router';
import { setRoute } from './index.js';

// The matched routes' paths joined: '/products/:id'; none matched, none.
const template = (matches) =>
  matches && matches.length ? `/${matches.map((m) => m.route.path).filter(Boolean).join('/')}`.replace(/\/\/+/g, '/') : null;

/**
 * For a data router (createBrowserRouter, createHashRouter): names the
 * route now and after each navigation. Returns the unsubscribe function.
 */
export function trackRouter(router) {
  const name = (state) => setRoute(template(state.matches));
  name(router.state);
  return router.subscribe(name);
}

/** `<Routes>` that names the route of the view it renders. */
export function WaggleRoutes(props) {
  const here = useLocation();
  const at = props.location || here;
  const name = template(matchRoutes(createRoutesFromChildren(props.children), at));
  const path = typeof at === 'string' ? at : at.pathname;
  useEffect(() => setRoute(name), [path, name]);
  return createElement(Routes, props);
}
