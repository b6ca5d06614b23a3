// The library: recordings with duration, date added and top species; search, sort, open.

import { useEffect, useRef, useState } from 'preact/hooks';
import { clock, dateTime } from '../lib/format';
import { speciesColour } from '../lib/species';
import { current, libQuery, openRecording, recordings, refreshRecordings } from '../state';

const ROW_H = 50;

export function LibraryPanel() {
  const q = libQuery.value;
  const list = recordings.value;
  const scroller = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const t = window.setTimeout(() => void refreshRecordings(), 150);
    return () => window.clearTimeout(t);
  }, [q.text, q.sort, q.descending]);
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setScroll({ top: el.scrollTop, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // Only the visible rows are in the DOM: thousands of recordings stay smooth.
  const first = Math.max(0, Math.floor(scroll.top / ROW_H) - 5);
  const last = Math.min(list.length, Math.ceil((scroll.top + scroll.height) / ROW_H) + 5);
  const open = current.value?.summary.id;
  return (
    <div class="library" data-testid="library">
      <div class="library-head">
        <input
          type="search"
          placeholder="Search name, folder, species…"
          value={q.text}
          data-testid="library-search"
          onInput={(e) => (libQuery.value = { ...q, text: (e.currentTarget as HTMLInputElement).value })}
        />
        <div class="sort">
          <select value={q.sort} onChange={(e) => (libQuery.value = { ...q, sort: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="added">date added</option>
            <option value="name">name</option>
            <option value="duration">duration</option>
            <option value="species">species</option>
          </select>
          <button class="icon" title="Reverse order" onClick={() => (libQuery.value = { ...q, descending: !q.descending })}>
            {q.descending ? '↓' : '↑'}
          </button>
          <span class="count" data-testid="library-count">{list.length}</span>
        </div>
      </div>
      <div class="rec-list" ref={scroller} onScroll={(e) => setScroll({ top: (e.currentTarget as HTMLDivElement).scrollTop, height: (e.currentTarget as HTMLDivElement).clientHeight })}>
        <div style={{ height: `${list.length * ROW_H}px`, position: 'relative' }}>
          {list.slice(first, last).map((r, k) => (
            <div
              key={r.id}
              class={`rec-row${open === r.id ? ' open' : ''}`}
              style={{ top: `${(first + k) * ROW_H}px` }}
              data-testid="recording-row"
              data-name={r.name}
              onClick={() => openRecording(r.id)}
              title={r.path}
            >
              <div class="rec-name">
                {r.status !== 'ok' && <span class="warn" title={`file ${r.status}`}>⚠ </span>}
                {r.name}
              </div>
              <div class="rec-sub">
                <span>{clock(r.duration_s, 0)}</span>
                <span class="muted">{dateTime(r.added_at)}</span>
                {r.top_species && (
                  <span class="sp" title={`${r.top_species.scientific} · best score ${(r.top_species.score * 100).toFixed(0)}% · ${r.top_species_windows} windows`}>
                    <span class="dot" style={{ background: speciesColour(r.top_species.common) }} />
                    {r.top_species.common}
                  </span>
                )}
              </div>
            </div>
          ))}
        </div>
        {list.length === 0 && <p class="muted pad">{q.text ? 'Nothing matches.' : 'The library is empty: drop recordings here.'}</p>}
      </div>
    </div>
  );
}
