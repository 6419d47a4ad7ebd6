/* A simulated bot for the sandbox tests (no real malware): dials a
 * documentation address three times, opens the watchdog and deletes its
 * own file. Built static with Debian's cross compilers.
 *
 * On SH4 it is freestanding (-nostdlib, raw syscalls): Debian's
 * qemu-sh4-static 7.2 hangs in glibc's static start-up code. */
#ifdef __sh__
#define AF_INET 2
#define SOCK_STREAM 1
#define O_RDWR 2
struct sockaddr_in {
	unsigned short sin_family;
	unsigned short sin_port;
	unsigned char sin_addr[4];
	unsigned char zero[8];
};
static long sys3(long n, long a, long b, long c) {
	register long r3 __asm__("r3") = n;
	register long r4 __asm__("r4") = a;
	register long r5 __asm__("r5") = b;
	register long r6 __asm__("r6") = c;
	register long r0 __asm__("r0");
	__asm__ volatile("trapa #0x13" : "=z"(r0) : "r"(r3), "r"(r4), "r"(r5), "r"(r6) : "memory");
	return r0;
}
#define socket(d, t, p) sys3(340, d, t, p)
#define connect(s, a, l) sys3(342, s, (long)(a), l)
#define write(f, b, n) sys3(4, f, (long)(b), n)
#define close(f) sys3(6, f, 0, 0)
#define open(p, f) sys3(5, (long)(p), f, 0)
#define unlink(p) sys3(10, (long)(p), 0, 0)
static unsigned short htons(unsigned short v) { return (unsigned short)(v << 8 | v >> 8); }
#else
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

static int run(char *self) {
	struct sockaddr_in a = {0};
	unsigned char ip[4] = {192, 0, 2, 10};
	a.sin_family = AF_INET;
	a.sin_port = htons(4444);
	for (int i = 0; i < 4; i++)
		((unsigned char *)&a.sin_addr)[i] = ip[i];
	for (int i = 0; i < 3; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			return 1;
		if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
			write(s, "PING\n", 5);
		close(s);
	}
	int fd = open("/dev/watchdog", O_RDWR);
	if (fd >= 0)
		close(fd);
	if (self)
		unlink(self);
	return 0;
}

#ifdef __sh__
/* The kernel starts us with argc at the stack pointer, argv after it. */
__asm__(".global _start\n_start:\n mov r15, r4\n mov.l 1f, r0\n jmp @r0\n nop\n .align 2\n1: .long cstart\n");
void cstart(long *sp) {
	sys3(252, run((char *)sp[1]), 0, 0);
	for (;;)
		;
}
#else
int main(int argc, char **argv) { return run(argc > 0 ? argv[0] : 0); }
#endif
