/* Random numbers for jitter: xoshiro256** per thread, seeded with getrandom(2). */
#include "config.h"

#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "random.h"

static _Thread_local uint64_t random_state[4];
static _Thread_local int random_seeded;

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64, to spread a weak seed over the whole state. */
static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void seed(void)
{
    uint64_t fallback;
    struct timespec now;

    if (getrandom(random_state, sizeof(random_state), GRND_NONBLOCK) != (ssize_t)sizeof(random_state)) {
        clock_gettime(CLOCK_REALTIME, &now);
        fallback = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec + (uint64_t)(uintptr_t)&now;
        for (int i = 0; i < 4; i++)
            random_state[i] = splitmix(&fallback);
    }
    if ((random_state[0] | random_state[1] | random_state[2] | random_state[3]) == 0)
        random_state[0] = 1;
    random_seeded = 1;
}

static uint64_t next(void)
{
    uint64_t *s = random_state;
    uint64_t result = rotate_left(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotate_left(s[3], 45);
    return result;
}

uint64_t lg_random_below(uint64_t bound)
{
    uint64_t limit;
    uint64_t value;

    if (bound == 0)
        return 0;
    if (!random_seeded)
        seed();

    /* Reject the top values that would make the modulo uneven. */
    limit = UINT64_MAX - UINT64_MAX % bound;
    do {
        value = next();
    } while (value >= limit);
    return value % bound;
}

int64_t lg_random_between(int64_t low, int64_t high)
{
    if (high <= low)
        return low;
    return low + (int64_t)lg_random_below((uint64_t)(high - low) + 1);
}
