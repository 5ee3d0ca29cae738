/* ratelimit.c - see ratelimit.h.
 *
 * Tokens are kept in thousandths ("milli-tokens") so refills need no
 * floating point; the time of a slot only advances by the time that was
 * turned into tokens, so slow rates lose nothing to rounding. */
#include "server/ratelimit.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/app.h"
#include "server/crypto.h"

#define MILLI 1000

typedef struct rl_slot {
    uint64_t key;   /* keyed hash of the key; 0 = free */
    int64_t milli;  /* tokens x 1000; below 0 = debt from ratelimit_charge */
    int64_t at_ns;  /* time up to which refills are accounted */
} rl_slot;

struct ratelimit {
    int nsets;
    int64_t burst_milli;
    int64_t ns_per_milli; /* time to earn one milli-token */
    uint64_t k0, k1;      /* SipHash key */
    pthread_mutex_t *locks; /* one per set */
    rl_slot *slots;       /* nsets * RATELIMIT_WAYS */
};

/* ---- SipHash-2-4 (Aumasson & Bernstein), 64-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                  \
    } while (0)

static uint64_t siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56, m;
    size_t i, full = len - len % 8;

    for (i = 0; i < full; i += 8) {
        m = 0;
        for (int j = 0; j < 8; j++)
            m |= (uint64_t)in[i + (size_t)j] << (8 * j);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (int j = 0; i + (size_t)j < len; j++)
        b |= (uint64_t)in[i + (size_t)j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- table ---- */

int64_t ratelimit_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

ratelimit *ratelimit_new(int slots, int64_t per_min, int64_t burst)
{
    ratelimit *rl;
    uint64_t k[2];

    if (slots < 1 || slots > RATELIMIT_MAX_SLOTS || per_min < 1 || per_min > RATELIMIT_MAX_PER_MIN ||
        burst < 1 || burst > RATELIMIT_MAX_BURST)
        return NULL;
    if (crypto_random(k, sizeof k) != 0)
        abort(); /* no randomness: nothing safe to do */
    rl = app_calloc(1, sizeof *rl);
    rl->nsets = (slots + RATELIMIT_WAYS - 1) / RATELIMIT_WAYS;
    rl->burst_milli = burst * MILLI;
    /* 60 s per per_min tokens: 6e10 ns / (per_min * 1000) milli-tokens. */
    rl->ns_per_milli = 60000000LL / per_min;
    rl->k0 = k[0];
    rl->k1 = k[1];
    rl->locks = app_calloc((size_t)rl->nsets, sizeof *rl->locks);
    rl->slots = app_calloc((size_t)rl->nsets * RATELIMIT_WAYS, sizeof *rl->slots);
    for (int i = 0; i < rl->nsets; i++)
        pthread_mutex_init(&rl->locks[i], NULL);
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (rl == NULL)
        return;
    for (int i = 0; i < rl->nsets; i++)
        pthread_mutex_destroy(&rl->locks[i]);
    free(rl->locks);
    free(rl->slots);
    free(rl);
}

/* Brings s up to now: elapsed time becomes tokens, capped at the burst. */
static void refill(const ratelimit *rl, rl_slot *s, int64_t now_ns)
{
    int64_t earned;

    if (now_ns <= s->at_ns)
        return; /* another thread read the clock a moment later than us */
    earned = (now_ns - s->at_ns) / rl->ns_per_milli;
    if (earned >= rl->burst_milli - s->milli) {
        s->milli = rl->burst_milli;
        s->at_ns = now_ns;
        return;
    }
    s->milli += earned;
    s->at_ns += earned * rl->ns_per_milli;
}

static int retry_after(const ratelimit *rl, const rl_slot *s)
{
    int64_t ns = (MILLI - s->milli) * rl->ns_per_milli;
    int64_t secs = (ns + 999999999) / 1000000000;
    return secs < 1 ? 1 : (int)secs;
}

/* Finds key's slot in its set (locked by the caller); when absent and
 * insert is set, takes a free slot or evicts the fullest one. */
static rl_slot *find(ratelimit *rl, rl_slot *set, uint64_t h, int64_t now_ns, int insert)
{
    rl_slot *victim = NULL;

    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        if (set[i].key == h) {
            refill(rl, &set[i], now_ns);
            return &set[i];
        }
    }
    if (!insert)
        return NULL;
    for (int i = 0; i < RATELIMIT_WAYS; i++) {
        rl_slot *s = &set[i];
        if (s->key == 0) {
            victim = s;
            break;
        }
        refill(rl, s, now_ns);
        /* Fullest first; among equals the least recently refilled. */
        if (victim == NULL || s->milli > victim->milli ||
            (s->milli == victim->milli && s->at_ns < victim->at_ns))
            victim = s;
    }
    victim->key = h;
    victim->milli = rl->burst_milli;
    victim->at_ns = now_ns;
    return victim;
}

static uint64_t hash_of(const ratelimit *rl, const char *key, int *set)
{
    uint64_t h = siphash(rl->k0, rl->k1, (const unsigned char *)key, strlen(key));
    if (h == 0)
        h = 1; /* 0 marks a free slot */
    *set = (int)((h >> 32) % (uint64_t)rl->nsets);
    return h;
}

int ratelimit_take(ratelimit *rl, const char *key, int64_t now_ns, int *retry_after_s)
{
    int set, rc = -1;
    uint64_t h = hash_of(rl, key, &set);
    rl_slot *s;

    pthread_mutex_lock(&rl->locks[set]);
    s = find(rl, &rl->slots[(size_t)set * RATELIMIT_WAYS], h, now_ns, 1);
    if (s->milli >= MILLI) {
        s->milli -= MILLI;
        rc = 0;
    } else if (retry_after_s) {
        *retry_after_s = retry_after(rl, s);
    }
    pthread_mutex_unlock(&rl->locks[set]);
    return rc;
}

int ratelimit_peek(ratelimit *rl, const char *key, int64_t now_ns, int *retry_after_s)
{
    int set, rc = 0;
    uint64_t h = hash_of(rl, key, &set);
    rl_slot *s;

    pthread_mutex_lock(&rl->locks[set]);
    s = find(rl, &rl->slots[(size_t)set * RATELIMIT_WAYS], h, now_ns, 0);
    if (s != NULL && s->milli < MILLI) {
        rc = -1;
        if (retry_after_s)
            *retry_after_s = retry_after(rl, s);
    }
    pthread_mutex_unlock(&rl->locks[set]);
    return rc;
}

void ratelimit_charge(ratelimit *rl, const char *key, int64_t now_ns)
{
    int set;
    uint64_t h = hash_of(rl, key, &set);
    rl_slot *s;

    pthread_mutex_lock(&rl->locks[set]);
    s = find(rl, &rl->slots[(size_t)set * RATELIMIT_WAYS], h, now_ns, 1);
    s->milli -= MILLI;
    if (s->milli < -rl->burst_milli)
        s->milli = -rl->burst_milli;
    pthread_mutex_unlock(&rl->locks[set]);
}

void ratelimit_addr_key(const char *addr, char *out, size_t cap)
{
    struct in6_addr a6;
    char buf[INET6_ADDRSTRLEN];

    if (cap == 0)
        return;
    if (addr != NULL && inet_pton(AF_INET6, addr, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            if (inet_ntop(AF_INET, &a6.s6_addr[12], buf, sizeof buf) != NULL) {
                snprintf(out, cap, "%s", buf);
                return;
            }
        } else {
            memset(&a6.s6_addr[8], 0, 8);
            if (inet_ntop(AF_INET6, &a6, buf, sizeof buf) != NULL) {
                snprintf(out, cap, "%s/64", buf);
                return;
            }
        }
    }
    snprintf(out, cap, "%s", addr ? addr : "");
}
