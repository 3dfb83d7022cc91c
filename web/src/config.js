// Deploy-time settings from /config.js (window.TASKD_CONFIG), read once at start.
const c = (typeof window !== 'undefined' && window.TASKD_CONFIG) || {};

/** Origin (and optional prefix) of the taskd API; "" means the page's own origin. */
export const API_BASE = String(c.apiBase || '').replace(/\/+$/, '');
/** Inbox polling interval. */
export const POLL_MS = Math.max(2000, Number(c.pollIntervalMs) || 15000);
