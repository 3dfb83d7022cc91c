import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** {me, setMe, lang, setLang, t, locale, unread, refreshUnread, toast, signOut} */
export const AppCtx = createContext(null);
export const useApp = () => useContext(AppCtx);
