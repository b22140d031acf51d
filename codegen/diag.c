/* diag.c: `file:line:col: error:` messages and "did you mean" suggestions. */
#include "diag.h"

#include <stdarg.h>
#include <string.h>

#include "suga_suggest.h"

void gen_error(gen_diag *diag, gen_loc loc, const char *fmt, ...)
{
    diag->error_count++;
    if (!diag->out)
        return;
    if (loc.line > 0) /* a position inside the file */
        fprintf(diag->out, "%s:%d:%d: error: ", loc.file ? loc.file : "<input>", loc.line, loc.col);
    else /* the file as a whole (cannot open, cannot read) */
        fprintf(diag->out, "%s: error: ", loc.file ? loc.file : "<input>");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(diag->out, fmt, ap);
    va_end(ap);
    fputc('\n', diag->out);
}

const char *gen_did_you_mean(char *buf, size_t size, const char *word,
                             const char *const *candidates, size_t count)
{
    const char *c = suga_closest(word, candidates, count);
    if (c)
        snprintf(buf, size, " (did you mean '%s'?)", c);
    else if (size)
        buf[0] = '\0';
    return buf;
}
