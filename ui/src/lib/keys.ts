// Keyboard shortcuts: one table, shown in the help overlay and used by the key handler.

export type Action =
  | 'play-pause'
  | 'next-hit'
  | 'prev-hit'
  | 'label-positive'
  | 'label-negative'
  | 'label-unsure'
  | 'open-hit'
  | 'zoom-in'
  | 'zoom-out'
  | 'zoom-fit'
  | 'scroll-left'
  | 'scroll-right'
  | 'search-selection'
  | 'help'
  | 'escape';

export const SHORTCUTS: { keys: string[]; action: Action; what: string }[] = [
  { keys: [' '], action: 'play-pause', what: 'Play / pause (the selected hit, else the view)' },
  { keys: ['j', 'ArrowDown'], action: 'next-hit', what: 'Next hit' },
  { keys: ['k', 'ArrowUp'], action: 'prev-hit', what: 'Previous hit' },
  { keys: ['y', '+'], action: 'label-positive', what: 'Label the selected hit positive' },
  { keys: ['n', '-'], action: 'label-negative', what: 'Label the selected hit negative' },
  { keys: ['u', '?'], action: 'label-unsure', what: 'Label the selected hit unsure' },
  { keys: ['Enter', 'o'], action: 'open-hit', what: 'Open the selected hit in the recording view' },
  { keys: ['=', 'i'], action: 'zoom-in', what: 'Zoom in' },
  { keys: ['_', 'x'], action: 'zoom-out', what: 'Zoom out' },
  { keys: ['0', 'f'], action: 'zoom-fit', what: 'Show the whole recording' },
  { keys: ['ArrowLeft', 'h'], action: 'scroll-left', what: 'Scroll earlier' },
  { keys: ['ArrowRight', 'l'], action: 'scroll-right', what: 'Scroll later' },
  { keys: ['s'], action: 'search-selection', what: 'Search again with the current query' },
  { keys: ['F1'], action: 'help', what: 'Show these shortcuts' },
  { keys: ['Escape'], action: 'escape', what: 'Close dialogs, stop playback' },
];

const BY_KEY = new Map<string, Action>();
for (const s of SHORTCUTS) for (const k of s.keys) BY_KEY.set(k, s.action);

/** The action for a key event, unless the user is typing in a field or holds a modifier. */
export function actionFor(e: { key: string; ctrlKey?: boolean; metaKey?: boolean; altKey?: boolean; target?: unknown }): Action | undefined {
  if (e.ctrlKey || e.metaKey || e.altKey) return undefined;
  const t = e.target as { tagName?: string; isContentEditable?: boolean } | undefined;
  const tag = t?.tagName?.toUpperCase();
  if (e.key !== 'Escape' && (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t?.isContentEditable)) return undefined;
  return BY_KEY.get(e.key);
}
