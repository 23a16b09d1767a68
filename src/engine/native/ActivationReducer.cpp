#include "ActivationReducer.h"

#include <algorithm>
#include <cmath>
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

// numpy.median semantics: the mean of the two middle values for an even count.
double medianInPlace(std::vector<float> & v) {
    const size_t n = v.size();
    const size_t mid = n / 2;
    std::nth_element(v.begin(), v.begin() + mid, v.end());
    const double upper = v[mid];
    if (n % 2 == 1) return upper;
    const double lower = *std::max_element(v.begin(), v.begin() + mid);
    return (lower + upper) / 2.0;
}

}  // namespace

void ActivationReducer::describe(const float * values, size_t n, size_t dims, double * out) {
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

    const double medianAbs = medianInPlace(absScratch_);
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
            tokenAbs_.assign(end - start, 0.0f);
            for (size_t i = start; i < end; i++) tokenAbs_[i - start] = std::fabs(values[i]);
            const double tokenThreshold = 1000.0 * medianInPlace(tokenAbs_);
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

    describe(values, tokens * dims, dims, all);
    if (tokens == 0) {
        describe(values, 0, dims, tokenMean);
        describe(values, 0, dims, last);
        return;
    }
    describe(values + (tokens - 1) * dims, dims, dims, last);

    // token-mean: average each statistic over tokens; top_dim is the most frequent per-token top
    // dimension (lowest dimension on ties), since an average of indices means nothing.
    std::fill(tokenMean, tokenMean + kStatisticCount, 0.0);
    tokenScratch_.resize(kStatisticCount);
    std::map<long, size_t> topDimVotes;
    for (size_t t = 0; t < tokens; t++) {
        describe(values + t * dims, dims, dims, tokenScratch_.data());
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
}

}  // namespace icl
