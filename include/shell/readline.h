/* readline.h - line editing on the serial console.
 *
 * Keys: printable text inserts at the cursor; Backspace/DEL deletes before
 * it; Left/Right (ESC [ D / C), Home/End (ESC [ H / F, Ctrl-A / Ctrl-E)
 * move; Up/Down (ESC [ A / B) walk the history; Ctrl-U erases the line;
 * Ctrl-C drops it; Tab completes through the completer: it is handed the
 * word before the cursor as the parser reads it (shell/quote.h), and what
 * it offers is inserted quoted to read back the same, cut before the
 * first byte the terminal filter (lib/escape.h) would escape; the
 * candidates it lists are shown quoted, through the filter. The cursor
 * moves by characters and the screen by their columns (lib/utf8.h). A
 * line longer than the buffer is refused whole with a message. */
#ifndef TALLY_READLINE_H
#define TALLY_READLINE_H

#define RL_HISTORY 32
/* Bytes of a line, NUL included: a command, up to 1,023 bytes of
 * directory and any name the FAT32 reader can list (765 bytes). A deeper
 * path is reached with cd, a step at a time: the current directory has
 * no length limit, and names are typed relative to it. */
#define RL_LINE_MAX 2048

/* Completion: offer every candidate that starts with `word` through emit.
 * `first` is nonzero when the word is the first on the line (a command). */
typedef void (*rl_emit_fn)(const char *candidate, void *ctx);
typedef void (*rl_complete_fn)(const char *word, int first, rl_emit_fn emit, void *ctx);

void rl_set_completer(rl_complete_fn fn);

/* Read one line into buf (cap bytes including the NUL, at most
 * RL_LINE_MAX), echoing it after `prompt`. Returns its length, or -1 when it was dropped (Ctrl-C) or
 * refused (too long). Non-empty lines go into the history. */
int rl_readline(const char *prompt, char *buf, int cap);

/* History: lines are numbered from 0 in the order they were added; the
 * last RL_HISTORY are remembered. rl_history_count() is how many were
 * ever added; rl_history_entry(n) is line n, or NULL once forgotten. */
int rl_history_count(void);
const char *rl_history_entry(int n);

#endif
