/* printf.c - the formatting engine behind kprintf and ksnprintf.
 * It is not a full C printf: no floating point, no precision; see
 * include/lib/printf.h for what is supported. */
#include <stdint.h>
#include <stdbool.h>
#include "lib/printf.h"
#include "lib/escape.h"

struct spec {
	bool left, zero;
	int width;
	int lng;   /* 0: int, 1: long, 2: long long, 3: size_t */
};

struct sink {
	printf_out_fn out;
	void *ctx;
	int count;
};

static void emit(struct sink *s, char c)
{
	s->out(c, s->ctx);
	s->count++;
}

static void pad(struct sink *s, int n, char c)
{
	while (n-- > 0)
		emit(s, c);
}

/* Emit `str` (len chars) in a field, honouring width and alignment.
 * A leading '-' stays in front of zero padding. */
static void field(struct sink *s, const struct spec *sp, const char *str, int len)
{
	int fill = sp->width - len;

	if (sp->left) {
		for (int i = 0; i < len; i++)
			emit(s, str[i]);
		pad(s, fill, ' ');
		return;
	}
	if (sp->zero && len > 0 && str[0] == '-') {
		emit(s, '-');
		str++;
		len--;
	}
	pad(s, fill, sp->zero ? '0' : ' ');
	for (int i = 0; i < len; i++)
		emit(s, str[i]);
}

static void number(struct sink *s, const struct spec *sp, uint64_t v,
		   bool neg, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		buf[--i] = '-';
	field(s, sp, buf + i, (int)sizeof(buf) - i);
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->lng) {
	case 0: return va_arg(*ap, unsigned int);
	case 1: return va_arg(*ap, unsigned long);
	case 2: return va_arg(*ap, unsigned long long);
	default: return va_arg(*ap, size_t);
	}
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->lng) {
	case 0: return va_arg(*ap, int);
	case 1: return va_arg(*ap, long);
	case 2: return va_arg(*ap, long long);
	default: return (int64_t)va_arg(*ap, size_t);
	}
}

/* Parse flags, width and length; returns the pointer at the conversion. */
static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == 'z') {
		sp->lng = 3;
		f++;
	}
	while (*f == 'l' && sp->lng < 2) {
		sp->lng++;
		f++;
	}
	return f;
}

static void convert(struct sink *s, struct spec *sp, char conv, va_list *ap)
{
	switch (conv) {
	case 'd': case 'i': {
		int64_t v = arg_signed(sp, ap);
		number(s, sp, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false);
		break;
	}
	case 'u': number(s, sp, arg_unsigned(sp, ap), false, 10, false); break;
	case 'x': number(s, sp, arg_unsigned(sp, ap), false, 16, false); break;
	case 'X': number(s, sp, arg_unsigned(sp, ap), false, 16, true); break;
	case 'o': number(s, sp, arg_unsigned(sp, ap), false, 8, false); break;
	case 'p':
		emit(s, '0');
		emit(s, 'x');
		sp->width = sp->width > 2 ? sp->width - 2 : 0;
		number(s, sp, (uintptr_t)va_arg(*ap, void *), false, 16, false);
		break;
	case 'c': {
		char c = (char)va_arg(*ap, int);
		field(s, sp, &c, 1);
		break;
	}
	case 's': {
		const char *str = va_arg(*ap, const char *);
		int len = 0;

		if (!str)
			str = "(null)";
		while (str[len])
			len++;
		sp->zero = false;
		field(s, sp, str, len);
		break;
	}
	case '%': emit(s, '%'); break;
	default:  emit(s, '%'); emit(s, conv); break;
	}
}

/* %pE: a NUL-terminated string through the terminal filter. */
static void escaped(struct sink *s, const char *str)
{
	size_t n = 0;

	if (!str)
		str = "(null)";
	while (str[n])
		n++;
	s->count += esc_write(s->out, s->ctx, str, n, 0);
}

int kvprintf_cb(printf_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	struct sink s = { out, ctx, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f; f++) {
		if (*f != '%') {
			emit(&s, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &aq);
		if (!*f)
			break;
		if (f[0] == 'p' && f[1] == 'E') {
			escaped(&s, va_arg(aq, const char *));
			f++;
			continue;
		}
		convert(&s, &sp, *f, &aq);
	}
	va_end(aq);
	return s.count;
}

struct bufctx {
	char *buf;
	size_t n, pos;
};

static void buf_out(char c, void *ctx)
{
	struct bufctx *b = ctx;

	if (b->pos + 1 < b->n)
		b->buf[b->pos] = c;
	b->pos++;
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct bufctx b = { buf, n, 0 };
	int len = kvprintf_cb(buf_out, &b, fmt, ap);

	if (n)
		buf[b.pos < n ? b.pos : n - 1] = 0;
	return len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return len;
}
