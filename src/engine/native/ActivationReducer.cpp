#include "ActivationReducer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace icl {

const char * statisticName(int statistic) {
    static const char * names[kStatisticCount] = {
        "mean",       "variance",        "skewness", "kurtosis",    "max_abs",
        "median_abs", "max_over_median", "top_dim",  "massive",     "abs_over_100",
        "abs_over_1000x_median",
    };
    return statistic >= 0 && statistic < kStatisticCount ? names[statistic] : nullptr;
}

const char * poolingName(int pooling) {
    static const char * names[kPoolingCount] = {"all", "token-mean", "last"};
    return pooling >= 0 && pooling < kPoolingCount ? names[pooling] : nullptr;
}

namespace {

uint32_t bitsOf(float value) {
    uint32_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

float floatOf(uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

// The k-th smallest (0-based) of n non-negative floats, exactly. For x >= 0 the IEEE-754 bit
// patterns order as the values do, so a most-significant-byte radix select needs about two passes
// over the data, where std::nth_element's compares mispredict on every other activation.
float selectNonNegative(const float * values, size_t n, size_t k, std::vector<uint32_t> & scratch) {
    scratch.resize(n);
    uint32_t * keep = scratch.data();
    size_t count = 0;
    uint32_t prefix = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        size_t histogram[256] = {};
        // First round reads the floats themselves; later rounds the patterns kept in `scratch`.
        if (shift == 24) {
            for (size_t i = 0; i < n; i++) histogram[bitsOf(values[i]) >> 24]++;
        } else {
            for (size_t i = 0; i < count; i++) histogram[(keep[i] >> shift) & 0xffu]++;
        }
        uint32_t digit = 0;
        while (k >= histogram[digit]) k -= histogram[digit++];
        prefix |= digit << shift;
        if (shift == 0) break;
        size_t kept = 0;
        if (shift == 24) {
            for (size_t i = 0; i < n; i++) {
                const uint32_t bits = bitsOf(values[i]);
                if ((bits >> 24) == digit) keep[kept++] = bits;
            }
        } else {
            for (size_t i = 0; i < count; i++) {
                if (((keep[i] >> shift) & 0xffu) == digit) keep[kept++] = keep[i];
            }
        }
        count = kept;
    }
    return floatOf(prefix);
}

}  // namespace

// numpy.median semantics: the mean of the two middle values for an even count.
double ActivationReducer::medianOfNonNegative(const float * values, size_t n) {
    const size_t mid = n / 2;
    const float upper = selectNonNegative(values, n, mid, selectScratch_);
    if (n % 2 == 1) return upper;
    // The lower middle value: `upper` itself when fewer than mid values lie below it, else the
    // largest value below it.
    size_t below = 0;
    float largestBelow = 0.0f;
    for (size_t i = 0; i < n; i++) {
        if (values[i] < upper) {
            below++;
            largestBelow = std::max(largestBelow, values[i]);
        }
    }
    const double lower = below < mid ? upper : largestBelow;
    return (lower + double(upper)) / 2.0;
}

void ActivationReducer::describe(const float * values, size_t n, size_t dims, double * out, const double * tokenMedians) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (n == 0) {
        std::fill(out, out + kStatisticCount, nan);
        return;
    }
    // Two passes in float64: the mean, then central moments.
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += values[i];
    const double mean = sum / double(n);

    double m2 = 0.0, m3 = 0.0, m4 = 0.0;
    absScratch_.resize(n);
    float maxAbs = -1.0f;
    size_t argMax = 0;
    size_t over100 = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = double(values[i]) - mean;
        const double d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        const float a = std::fabs(values[i]);
        absScratch_[i] = a;
        if (a > maxAbs) {
            maxAbs = a;
            argMax = i;
        }
        if (a > 100.0f) over100++;
    }
    m2 /= double(n);
    m3 /= double(n);
    m4 /= double(n);

    out[kMean] = mean;
    out[kVariance] = m2;
    // scipy returns nan for constant input; so do we.
    out[kSkewness] = m2 > 0.0 ? m3 / std::pow(m2, 1.5) : nan;
    out[kKurtosis] = m2 > 0.0 ? m4 / (m2 * m2) - 3.0 : nan;
    out[kMaxAbs] = maxAbs;
    out[kTopDim] = double(argMax % dims);
    out[kAbsOver100] = double(over100);

    const double medianAbs = medianOfNonNegative(absScratch_.data(), n);
    out[kMedianAbs] = medianAbs;
    out[kMaxOverMedian] = medianAbs > 0.0 ? double(maxAbs) / medianAbs
                                          : (maxAbs > 0.0f ? std::numeric_limits<double>::infinity() : nan);
    const double threshold = 1000.0 * medianAbs;
    size_t massiveRelative = 0;
    for (size_t i = 0; i < n; i++) {
        if (std::fabs(values[i]) > threshold) massiveRelative++;
    }
    out[kAbsOver1000xMedian] = double(massiveRelative);

    // Sun et al.'s conjunction, each value against its own token's median |a|. Only values over
    // 100 can qualify, so a token's median is computed only when it has one.
    size_t massive = 0;
    if (over100 > 0) {
        for (size_t start = 0; start < n; start += dims) {
            const size_t end = std::min(n, start + dims);
            bool any = false;
            for (size_t i = start; i < end && !any; i++) any = std::fabs(values[i]) > 100.0f;
            if (!any) continue;
            double tokenMedian;
            if (tokenMedians) {
                tokenMedian = tokenMedians[start / dims];
            } else if (end - start == n) {
                tokenMedian = medianAbs;  // one token: its median is the pooled one
            } else {
                tokenAbs_.assign(end - start, 0.0f);
                for (size_t i = start; i < end; i++) tokenAbs_[i - start] = std::fabs(values[i]);
                tokenMedian = medianOfNonNegative(tokenAbs_.data(), end - start);
            }
            const double tokenThreshold = 1000.0 * tokenMedian;
            for (size_t i = start; i < end; i++) {
                const float a = std::fabs(values[i]);
                if (a > 100.0f && double(a) > tokenThreshold) massive++;
            }
        }
    }
    out[kMassive] = double(massive);
}

void ActivationReducer::reduce(const float * values, size_t tokens, size_t dims, double * out) {
    double * all = out + kPoolAll * kStatisticCount;
    double * tokenMean = out + kPoolTokenMean * kStatisticCount;
    double * last = out + kPoolLast * kStatisticCount;

    if (tokens == 0) {
        describe(values, 0, dims, all);
        describe(values, 0, dims, tokenMean);
        describe(values, 0, dims, last);
        return;
    }

    // token-mean: average each statistic over tokens; top_dim is the most frequent per-token top
    // dimension (lowest dimension on ties), since an average of indices means nothing. Each
    // token's median |a| is kept for the pooled massive count below.
    std::fill(tokenMean, tokenMean + kStatisticCount, 0.0);
    tokenScratch_.resize(kStatisticCount);
    tokenMedians_.resize(tokens);
    std::map<long, size_t> topDimVotes;
    for (size_t t = 0; t < tokens; t++) {
        describe(values + t * dims, dims, dims, tokenScratch_.data());
        tokenMedians_[t] = tokenScratch_[kMedianAbs];
        for (int s = 0; s < kStatisticCount; s++) {
            if (s != kTopDim) tokenMean[s] += tokenScratch_[s];
        }
        topDimVotes[long(tokenScratch_[kTopDim])]++;
    }
    for (int s = 0; s < kStatisticCount; s++) {
        if (s != kTopDim) tokenMean[s] /= double(tokens);
    }
    long bestDim = 0;
    size_t bestVotes = 0;
    for (const auto & [dim, votes] : topDimVotes) {
        if (votes > bestVotes) {
            bestDim = dim;
            bestVotes = votes;
        }
    }
    tokenMean[kTopDim] = double(bestDim);

    describe(values, tokens * dims, dims, all, tokenMedians_.data());
    describe(values + (tokens - 1) * dims, dims, dims, last);
}

}  // namespace icl
