// Vue Router with HTML5 history under a base: trackRouter names each
// view's route.
import { createApp, h } from 'vue';
import { createRouter, createWebHistory, RouterLink, RouterView, useRoute } from 'vue-router';
import { trackRouter } from 'waggle-rum/vue-router';
import { start } from './start.js';

const Home = { render: () => h('h1', { id: 'title' }, 'Home') };
const Product = {
  setup() {
    const route = useRoute();
    return () => h('h1', { id: 'title' }, `Product ${route.params.id}`);
  },
};
const router = createRouter({
  history: createWebHistory('/vue/'),
  routes: [
    { path: '/', component: Home },
    { path: '/products/:id', component: Product },
  ],
});
trackRouter(router);
start('vue');
const App = { render: () => [h('nav', [h(RouterLink, { to: '/products/42', id: 'go' }, () => 'Product 42')]), h(RouterView)] };
createApp(App).use(router).mount('#root');
