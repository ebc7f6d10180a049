import { useSignalEffect } from '@preact/signals';

/**
 * Calls `load` at once and again `intervalMs` after each call has settled, for as long as `again()`
 * says so after it and the component is shown. A slow answer delays the next call instead of piling
 * requests up. `load` handles its own errors (the page shows them and tries again).
 */
export function usePoll(load: () => Promise<void>, intervalMs: number, again: () => boolean = () => true): void {
  useSignalEffect(() => {
    let closed = false;
    let timer: ReturnType<typeof setTimeout>;
    const poll = async () => {
      await load();
      if (!closed && again()) timer = setTimeout(poll, intervalMs);
    };
    void poll();
    return () => {
      closed = true;
      clearTimeout(timer);
    };
  });
}
