export function explode(reason) {
  const detail = { reason, at: 1 };
  if (detail.at > 0) {
    throw new Error('exploded: ' + detail.reason);
  }
  return detail;
}
