// waggle-rum/vue-router: names each view's route for Waggle from Vue
// Router's matched record (setRoute('/products/:id')), right after each
// navigation changed the URL. Vue Router 4 and later.
import { setRoute } from './index.js';

const name = (to) => setRoute(to.matched.length ? to.matched[to.matched.length - 1].path : null);

/** Names the route now and after each navigation; returns the function that stops it. */
export function trackRouter(router) {
  name(router.currentRoute.value);
  return router.afterEach((to, from, failure) => failure || name(to));
}
