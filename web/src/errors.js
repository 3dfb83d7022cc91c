// API errors → one sentence for people.

/** The message for an ApiError (or any error). */
export function errorText(t, err) {
  if (!err) return '';
  if (err.conflict) return t('err.conflict');
  if (err.code === 'network') return t('err.network');
  if (err.status === 429) return t('err.rateLimited', { s: err.retryAfter || 30 });
  if (err.status === 403) return err.message && err.message !== 'Forbidden' ? `${t('err.forbidden')} (${err.message})` : t('err.forbidden');
  if (isUnavailable(err)) return t('err.unavailable');
  if (err.message) return err.message;
  return t('err.generic', { msg: err.code || String(err) });
}

/** The route itself is not served (yet): 404 without a specific code, 405 or 501. */
export function isUnavailable(err) {
  if (!err || !err.status) return false;
  if (err.status === 501 || err.status === 405) return true;
  return err.status === 404 && /^(http_404|not_found|route_not_found)$/.test(err.code || '');
}
