// The root layout names every view's route: <WaggleRoute /> from
// waggle-rum/next (a client component; this layout stays a server one).
import { WaggleRoute } from 'waggle-rum/next';
import Start from './start';

export const metadata = { title: 'Next.js routes' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>
        {children}
        <Start />
        <WaggleRoute />
      </body>
    </html>
  );
}
