// Waiting on state a test cannot subscribe to (a file watcher's callbacks, counted by the test):
// checks the condition every few milliseconds and fails, saying so, once the time is up.
export function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) resolve();
      else if (Date.now() > deadline) reject(new Error(`condition not met within ${timeoutMs} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}
