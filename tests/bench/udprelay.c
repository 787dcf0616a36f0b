/* udprelay.c — the kernel-UDP baseline of tests/bench/relay.sh (owned by
   the bench): one socket bound to BIND_IP:PORT; every datagram it receives
   is sent on, unchanged, to each DST_IP:PORT given, with plain
   recv(2)/sendto(2) and a blocking wait (no polling, no batching): what a
   relay on the kernel's UDP stack costs per frame.  Runs until killed.
   Usage: udprelay BIND_IP PORT [DST_IP...]   (none: a sink) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDPR_MAX_DST 8

int main(int argc, char **argv)
{
	struct sockaddr_in me = {.sin_family = AF_INET}, dst[UDPR_MAX_DST];
	int ndst = argc - 3, fd;
	unsigned char buf[2048];
	if (argc < 3 || ndst > UDPR_MAX_DST || inet_pton(AF_INET, argv[1], &me.sin_addr) != 1) {
		fprintf(stderr, "usage: udprelay BIND_IP PORT [DST_IP...]\n");
		return 2;
	}
	me.sin_port = htons((unsigned short)atoi(argv[2]));
	for (int i = 0; i < ndst; i++) {
		dst[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = me.sin_port};
		if (inet_pton(AF_INET, argv[3 + i], &dst[i].sin_addr) != 1)
			return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
		perror("udprelay: socket/bind");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0)
			continue;
		for (int i = 0; i < ndst; i++)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&dst[i], sizeof dst[i]);
	}
}
