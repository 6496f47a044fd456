// A pending Atomics.waitAsync does not keep a Node process alive (nodejs/node#61941): a thread
// with fibers waiting on another thread holds a ref'd timer meanwhile. Browsers need nothing.

export interface KeepAlive {
  hold(): void;
  release(): void;
}

/** A counted hold: the process stays alive while any hold is not released. */
export function keepAlive(): KeepAlive {
  let holds = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  return {
    hold(): void {
      if (holds++ === 0) timer = setInterval(() => {}, 1 << 30);
    },
    release(): void {
      if (holds === 0) return;
      if (--holds === 0 && timer !== null) {
        clearInterval(timer);
        timer = null;
      }
    },
  };
}
