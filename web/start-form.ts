import { useSignal } from '@preact/signals';
import { ApiError } from './api.js';

/**
 * What the start forms share: read the form, call the API, go to the page of what was started, and
 * show a refusal with the fields the service named. `start` answers the hash to go to.
 */
export function useStartForm(start: (text: (name: string) => string) => Promise<string>) {
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    busy.value = true;
    error.value = null;
    try {
      location.hash = await start(text);
    } catch (e) {
      error.value = e instanceof ApiError ? [e.message, ...e.issues.map((i) => `${i.path}: ${i.message}`)].join('\n') : String(e);
    } finally {
      busy.value = false;
    }
  };
  return { error, busy, submit };
}
