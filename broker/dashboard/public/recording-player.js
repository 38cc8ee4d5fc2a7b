// The in-page recording player: the session's WebM in a <video>, under a timeline of the session's
// transitions. The recording starts when the session is handed its pod (RUNNING), so each
// transition sits at its time since then; a marker seeks the video there.
import { api } from './api.js';
import { h, notice, replace, statusLabel } from './dom.js';

const clock = (seconds) => {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** Transitions with their offset into the recording (seconds; negative: before it started). */
export function timelineOf(transitions) {
  const running = transitions.find((t) => t.to === 'RUNNING');
  const start = Date.parse(running?.at ?? transitions[0]?.at ?? 0);
  return transitions.map((t) => ({ ...t, offset: (Date.parse(t.at) - start) / 1000 }));
}

/**
 * Renders the player into `box` once the recording exists. Resolves true when shown, false while the
 * recording is still being saved (the caller asks again on its next poll).
 */
export async function showRecording(box, base, transitions) {
  let rec;
  try {
    rec = await api(`${base}/recording`);
  } catch (err) {
    // 409: still being saved (ask again next poll); 404: none was saved, or retention deleted it.
    replace(box, notice(err.status === 409 ? 'info' : 'error', err.detail));
    return err.status !== 409;
  }
  // A property, not markup: the signed URL never appears in the page's text.
  const video = h('video', {
    controls: true,
    preload: 'auto',
    class: 'recording',
    'aria-describedby': 'rec-help',
  });
  video.src = rec.recording_url;
  const duration = rec.duration_seconds || 1;
  const before = [];
  const markers = [];
  for (const t of timelineOf(transitions)) {
    const label = `${statusLabel(t.to)} ${t.offset < 0 ? '(before recording)' : `at ${clock(t.offset)}`}`;
    const button = h(
      'button',
      {
        type: 'button',
        class: 'marker',
        'data-to': t.to,
        title: `${label}${t.reason ? ` · ${t.reason}` : ''}`,
        'aria-label': label,
      },
      statusLabel(t.to),
    );
    // Before the recording started (QUEUED, PROVISIONING): listed, nothing to seek to.
    if (t.offset < 0) {
      button.disabled = true;
      before.push(button);
      continue;
    }
    button.style.left = `${(Math.min(t.offset, duration) / duration) * 100}%`;
    button.addEventListener('click', () => {
      video.currentTime = Math.min(t.offset, duration);
    });
    markers.push(button);
  }
  replace(
    box,
    video,
    h(
      'div',
      { class: 'timeline-before', role: 'group', 'aria-label': 'Transitions before the recording' },
      before,
    ),
    h('div', { class: 'timeline', role: 'group', 'aria-label': 'Transitions on the recording' }, markers),
    h(
      'p',
      { id: 'rec-help', class: 'help' },
      `${clock(rec.duration_seconds)} · ${(rec.size_bytes / 1024).toFixed(0)} KiB · kept until ${new Date(rec.delete_after).toLocaleDateString()}. ` +
        'Select a transition to jump to it.',
    ),
  );
  return true;
}
