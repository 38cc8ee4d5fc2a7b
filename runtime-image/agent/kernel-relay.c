/*
 * splice-relay: relays WebSocket connections that a Node.js parent has already checked, in the
 * kernel. The parent hands it a client socket over its IPC channel (child_process `send` with the
 * socket's handle) together with where to connect and the upgrade request to send there; from then
 * on the bytes move socket -> pipe -> socket with splice(2), never through user space, and the
 * process wakes once a message and direction, not twice through Node's event loop
 * (docs/performance.md, twelfth pass).
 *
 * Its whole protocol is JSON lines on the channel Node opens for a child (NODE_CHANNEL_FD):
 *   parent -> relay, with a socket:  {"cmd":"NODE_HANDLE","type":"net.Native","msg":"relay <id> unix <path> <request base64>"}
 *                                    (or "relay <id> tcp <host> <port> <request base64>")
 *   parent -> relay:                 "close <id>"
 *   relay -> parent:                 {"cmd":"NODE_HANDLE_ACK"}, "bytes <id> <client_to_pod> <pod_to_client>"
 *                                    (each second while they move), "closed <id> <client_to_pod> <pod_to_client>"
 * The relay only moves bytes between sockets it was given and addresses it was told; it reads no
 * file, listens on nothing and exits when its parent goes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1 << 16)
#define CONNECT_TIMEOUT_MS 10000
#define KEEPALIVE_S 10
#define REPORT_MS 1000
#define MAX_LINE (1 << 20)

enum { CLIENT = 0, POD = 1 };

struct conn;
struct end {
  struct conn *conn;
  int side;
};

struct conn {
  long id;
  int fd[2];
  int pipe[2][2]; /* pipe[d]: bytes read from fd[d], on their way to fd[1 - d] */
  size_t in_pipe[2];
  unsigned long long moved[2], reported[2];
  char *request; /* the upgrade request, written to the pod before anything is spliced */
  size_t request_len, request_off;
  int connecting, closed;
  long long deadline;
  uint32_t interest[2];
  struct end ends[2];
  struct conn *next, *prev;
};

static int epfd, channel;
static struct conn *conns, *closed_conns; /* closed ones are freed after the events in hand */
static char inbuf[MAX_LINE];
static size_t inlen;
static int fds_waiting[64];
static int nfds_waiting;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const char *line) {
  size_t len = strlen(line), off = 0;
  while (off < len) {
    ssize_t n = write(channel, line + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) exit(0); /* the parent is gone */
    off += (size_t)n;
  }
}

static void report(struct conn *c, const char *what) {
  char line[160];
  snprintf(line, sizeof line, "\"%s %ld %llu %llu\"\n", what, c->id, c->moved[0] - c->reported[0],
           c->moved[1] - c->reported[1]);
  c->reported[0] = c->moved[0];
  c->reported[1] = c->moved[1];
  say(line);
}

static void close_conn(struct conn *c) {
  c->closed = 1;
  for (int s = 0; s < 2; s++) {
    if (c->fd[s] >= 0) close(c->fd[s]);
    for (int e = 0; e < 2; e++)
      if (c->pipe[s][e] >= 0) close(c->pipe[s][e]);
  }
  report(c, "closed");
  if (c->prev) c->prev->next = c->next;
  else conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = closed_conns;
  closed_conns = c;
}

static void free_closed(void) {
  while (closed_conns) {
    struct conn *c = closed_conns;
    closed_conns = c->next;
    free(c->request);
    free(c);
  }
}

static int ready(struct conn *c) { return !c->connecting && c->request_off == c->request_len; }

/* What each socket waits for: to be read while its pipe is empty, written while the other's is not. */
static void watch(struct conn *c) {
  for (int s = 0; s < 2; s++) {
    uint32_t want = 0;
    if (s == POD && (c->connecting || c->request_off < c->request_len)) want |= EPOLLOUT;
    if (ready(c) && c->in_pipe[s] == 0) want |= EPOLLIN;
    if (c->in_pipe[1 - s] > 0) want |= EPOLLOUT;
    if (want != c->interest[s]) {
      struct epoll_event ev = {.events = want, .data.ptr = &c->ends[s]};
      epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd[s], &ev);
      c->interest[s] = want;
    }
  }
}

/* Moves what can move from fd[d] to fd[1 - d]; 0 when the connection is over. */
static int pump(struct conn *c, int d) {
  for (;;) {
    if (c->in_pipe[d] > 0) {
      ssize_t n = splice(c->pipe[d][0], NULL, c->fd[1 - d], NULL, c->in_pipe[d],
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      c->in_pipe[d] -= (size_t)n;
      c->moved[d] += (unsigned long long)n;
      continue;
    }
    ssize_t n = splice(c->fd[d], NULL, c->pipe[d][1], NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n == 0) return 0; /* end of stream: no half-open connections, both go */
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c->in_pipe[d] += (size_t)n;
  }
}

static int finish_connect(struct conn *c) {
  if (c->connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd[POD], SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) return 0;
    c->connecting = 0;
  }
  while (c->request_off < c->request_len) {
    ssize_t n = write(c->fd[POD], c->request + c->request_off, c->request_len - c->request_off);
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    c->request_off += (size_t)n;
  }
  free(c->request); /* sent: not needed any more */
  c->request = NULL;
  return 1;
}

static void on_event(struct end *e, uint32_t events) {
  struct conn *c = e->conn;
  int ok = 1, s = e->side;
  if (c->closed) return;
  if (s == POD && !ready(c) && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) ok = finish_connect(c);
  if (s == CLIENT && !ready(c) && (events & (EPOLLERR | EPOLLHUP))) ok = 0; /* gone before the pod answered */
  if (ok && ready(c)) {
    /* readable (or its end, or an error): what this side sent; writable: what waits for this side */
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ok = pump(c, s);
    if (ok && (events & EPOLLOUT) && c->in_pipe[1 - s] > 0) ok = pump(c, 1 - s);
  }
  if (!ok) return close_conn(c);
  watch(c);
}

static size_t unbase64(const char *in, char *out) {
  static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *in && *in != '='; in++) {
    const char *p = strchr(abc, *in);
    if (!p) break;
    acc = (acc << 6) | (uint32_t)(p - abc);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (char)((acc >> bits) & 0xff);
    }
  }
  return n;
}

static int connect_pod(char **args, int nargs) {
  if (nargs >= 1 && strcmp(args[0], "unix") == 0 && nargs == 3) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(args[1]) >= sizeof sa.sun_path) return -1;
    strcpy(sa.sun_path, args[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS && errno != EAGAIN) {
      close(fd);
      return -1;
    }
    return fd;
  }
  if (nargs >= 1 && strcmp(args[0], "tcp") == 0 && nargs == 4) {
    /* numeric only: a name lookup would stall every connection (kernel.relay.ts passes no names) */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV}, *res;
    if (getaddrinfo(args[1], args[2], &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0 && errno != EINPROGRESS) {
      close(fd);
      fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
      int one = 1, idle = KEEPALIVE_S;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof idle);
    }
    return fd;
  }
  return -1;
}

/* "relay <id> unix <path> <request>" or "relay <id> tcp <host> <port> <request>", with the client. */
static void relay(char *msg, int client) {
  char *args[8];
  int nargs = 0;
  for (char *tok = strtok(msg, " "); tok && nargs < 8; tok = strtok(NULL, " ")) args[nargs++] = tok;
  struct conn *c = calloc(1, sizeof *c);
  if (!c || client < 0 || nargs < 5 || strcmp(args[0], "relay") != 0) {
    char line[96];
    snprintf(line, sizeof line, "\"closed %ld 0 0\"\n", nargs > 1 ? strtol(args[1], NULL, 10) : 0L);
    free(c);
    if (client >= 0) close(client);
    return say(line);
  }
  c->id = strtol(args[1], NULL, 10);
  c->fd[CLIENT] = client;
  c->fd[POD] = connect_pod(args + 2, nargs - 2);
  for (int d = 0; d < 2; d++) c->pipe[d][0] = c->pipe[d][1] = -1;
  c->next = conns;
  if (conns) conns->prev = c;
  conns = c;
  const char *b64 = args[nargs - 1];
  c->request = malloc(strlen(b64) / 4 * 3 + 3);
  c->request_len = c->request ? unbase64(b64, c->request) : 0;
  if (c->fd[POD] < 0 || !c->request || pipe2(c->pipe[0], O_NONBLOCK | O_CLOEXEC) < 0 ||
      pipe2(c->pipe[1], O_NONBLOCK | O_CLOEXEC) < 0)
    return close_conn(c);
  fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
  fcntl(client, F_SETFD, FD_CLOEXEC);
  c->connecting = 1;
  c->deadline = now_ms() + CONNECT_TIMEOUT_MS;
  for (int s = 0; s < 2; s++) {
    c->ends[s] = (struct end){c, s};
    struct epoll_event ev = {.events = 0, .data.ptr = &c->ends[s]};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd[s], &ev);
  }
  watch(c);
}

static void on_line(char *line) {
  static const char handle[] = "{\"cmd\":\"NODE_HANDLE\",";
  if (strncmp(line, handle, sizeof handle - 1) == 0) {
    say("{\"cmd\":\"NODE_HANDLE_ACK\"}\n");
    int fd = -1; /* none arrived: relay() answers "closed" for the id */
    if (nfds_waiting > 0) {
      fd = fds_waiting[0];
      memmove(fds_waiting, fds_waiting + 1, sizeof(int) * (size_t)--nfds_waiting);
    }
    char *msg = strstr(line, "\"msg\":\"");
    char *end = msg ? strchr(msg + 7, '"') : NULL;
    if (!end) {
      if (fd >= 0) close(fd);
      return;
    }
    *end = 0;
    return relay(msg + 7, fd);
  }
  long id;
  if (sscanf(line, "\"close %ld\"", &id) == 1)
    for (struct conn *c = conns; c; c = c->next)
      if (c->id == id) return close_conn(c);
}

static void on_channel(void) {
  char control[CMSG_SPACE(sizeof(int) * 8)];
  struct iovec iov = {.iov_base = inbuf + inlen, .iov_len = sizeof inbuf - inlen - 1};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(channel, &mh, MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) exit(0); /* the parent is gone, and with it every connection's purpose */
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
      if (nfds_waiting < 64) fds_waiting[nfds_waiting++] = fd;
      else close(fd);
    }
  }
  inlen += (size_t)n;
  char *start = inbuf, *nl;
  while ((nl = memchr(start, '\n', inlen - (size_t)(start - inbuf)))) {
    *nl = 0;
    on_line(start);
    start = nl + 1;
  }
  inlen -= (size_t)(start - inbuf);
  memmove(inbuf, start, inlen);
  if (inlen >= sizeof inbuf - 1) exit(1); /* no line is this long */
}

int main(void) {
  const char *fdvar = getenv("NODE_CHANNEL_FD");
  if (!fdvar) {
    fprintf(stderr, "splice-relay: run by Node.js with an IPC channel (NODE_CHANNEL_FD)\n");
    return 2;
  }
  channel = atoi(fdvar);
  fcntl(channel, F_SETFL, fcntl(channel, F_GETFL) & ~O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max; /* six descriptors a connection */
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  static struct end channel_end = {NULL, -1};
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &channel_end};
  epoll_ctl(epfd, EPOLL_CTL_ADD, channel, &ev);
  long long next_report = now_ms() + REPORT_MS;
  for (;;) {
    struct epoll_event events[64];
    int n = epoll_wait(epfd, events, 64, conns ? REPORT_MS : -1); /* idle: sleep until told */
    for (int i = 0; i < n; i++) {
      struct end *e = events[i].data.ptr;
      if (e == &channel_end) on_channel();
      else on_event(e, events[i].events);
    }
    free_closed();
    long long now = now_ms();
    if (now < next_report) continue;
    next_report = now + REPORT_MS;
    for (struct conn *c = conns, *next; c; c = next) {
      next = c->next;
      if (c->connecting && now > c->deadline) close_conn(c);
      else if (c->moved[0] != c->reported[0] || c->moved[1] != c->reported[1]) report(c, "bytes");
    }
    free_closed();
  }
}
