/* rng.c - loggen's PRNG, xoshiro256** (never rand(): output must be reproducible). */
#include "loggen.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void rng_init(rng_t *r, uint64_t seed, enum rng_stream stream)
{
    uint64_t x = seed ^ ((uint64_t)stream * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint64_t rng_below(rng_t *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return x % n;
}

bool rng_percent(rng_t *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

void vary_case(rng_t *r, const char *name, char *out, size_t cap)
{
    unsigned style = (unsigned)rng_below(r, 100);
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) {
        char c = name[i];
        bool lower;
        if (style < 50)
            lower = false;
        else if (style < 70)
            lower = true;
        else if (style < 85)
            lower = i > 0;
        else
            lower = rng_percent(r, 50);
        out[i] = (lower && c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[i] = '\0';
}

