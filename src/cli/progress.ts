// A progress bar on stderr, drawn only when stderr is a terminal (a pipe or a file gets nothing).

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export function startProgress(
  stream: ProgressStream,
  read: () => { done: number; total: number; label: string },
): () => void {
  if (!stream.isTTY) return () => {};
  const draw = (): void => {
    const { done, total, label } = read();
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 50));
    const filled = total > 0 ? Math.round((width * done) / total) : 0;
    stream.write(
      `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done.toLocaleString("en-US")} / ${total.toLocaleString("en-US")} ${label}\x1b[K`,
    );
  };
  draw();
  const timer = setInterval(draw, 100);
  return () => {
    clearInterval(timer);
    stream.write("\r\x1b[K");
  };
}
