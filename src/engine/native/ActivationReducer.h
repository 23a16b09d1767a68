// Reduces one example's MLP outputs ([span tokens, n_embd] per layer) to the statistics the study
// correlates with example quality. The column order is mirrored by src/engine/addon.ts, which
// checks it against statisticNames()/poolingNames() when the addon loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace icl {

enum Statistic : int {
    kMean = 0,
    kVariance,        // population (divide by n), as scipy.stats with bias=True
    kSkewness,        // m3 / m2^1.5
    kKurtosis,        // excess: m4 / m2^2 - 3
    kMaxAbs,
    kMedianAbs,
    kMaxOverMedian,
    kTopDim,          // dimension of the largest |a|
    kMassive,         // massive activations (Sun et al., 2024): count of |a| > 100 AND
                      // |a| > 1000 x the median |a| of that value's token (over its d_model values)
    kAbsOver100,      // count of |a| > 100 alone
    kAbsOver1000xMedian,  // count of |a| > 1000 x median |a| of the pooled values alone
    kStatisticCount
};

enum Pooling : int {
    kPoolAll = 0,     // every token x dimension value of the span
    kPoolTokenMean,   // the statistic of each token's vector, averaged over the span's tokens
    kPoolLast,        // the span's last token's vector
    kPoolingCount
};

const char * statisticName(int statistic);
const char * poolingName(int pooling);

class ActivationReducer {
public:
    // Writes kPoolingCount * kStatisticCount doubles (pooling-major) for one layer's
    // activations: `values` holds `tokens` rows of `dims` floats.
    void reduce(const float * values, size_t tokens, size_t dims, double * out);

private:
    // Statistics of n values; `dims` maps a flat index to its dimension for top_dim. `tokenMedians`
    // (optional) holds each token's median |a| when the caller has them already (for massive).
    void describe(const float * values, size_t n, size_t dims, double * out, const double * tokenMedians = nullptr);
    // numpy.median of n non-negative floats.
    double medianOfNonNegative(const float * values, size_t n);

    std::vector<float> absScratch_;
    std::vector<float> tokenAbs_;
    std::vector<double> tokenScratch_;
    std::vector<double> tokenMedians_;
    std::vector<uint32_t> selectScratch_;
};

}  // namespace icl
