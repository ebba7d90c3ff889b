// A server component: rendered on the server at each request, with the
// client component below (whose module imports waggle-rum there too).
import Waggle from './waggle';

export const dynamic = 'force-dynamic';

export default function Page() {
  return (
    <main>
      <h1>Next.js app</h1>
      <Waggle />
    </main>
  );
}
