// Who the demo shopper is, and where the API lives; shared by the page's
// telemetry setup and its app code.

const params = new URLSearchParams(location.search);
const STORAGE_KEY = 'waggle-demo-user';

function pickUser() {
  const fromUrl = (params.get('user') || '').trim().slice(0, 64);
  if (fromUrl) return fromUrl;
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored) return stored;
  } catch {
    // Storage can be disabled; a fresh id per page view is fine then.
  }
  return `shopper-${Math.random().toString(36).slice(2, 8)}`;
}

/** The user id sent to the backend (X-User-Id, cookie) and put on browser spans. */
export const demoUser = pickUser();
try {
  localStorage.setItem(STORAGE_KEY, demoUser);
} catch {
  // See above.
}
document.cookie = `user_id=${encodeURIComponent(demoUser)}; path=/; SameSite=Lax`;

/**
 * Origin of the API when it is not this page's (?api=http://127.0.0.1:8080
 * makes the calls cross-origin, to see CORS and trace headers at work);
 * '' for same-origin calls.
 */
export const apiBase = (() => {
  const raw = params.get('api');
  if (!raw) return '';
  try {
    return new URL(raw).origin;
  } catch {
    return '';
  }
})();
