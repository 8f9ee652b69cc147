// The three kinds of plugin element together (pyclick -C examples/clickpath).
// Countdown is pulled by Unqueue through Reverse, which is agnostic and so
// pull here; Unqueue pushes batches of up to 2 packets to BatchLog.
Countdown(5) -> Reverse -> Unqueue(BURST 2) -> log :: BatchLog;

// The same Reverse class, pushed this time.
InfiniteSource("abc", LIMIT 1) -> Reverse -> Print(reversed, CONTENTS ASCII) -> Discard;
