// The TopK step a sparse autoencoder's encoder ends with, and the sparse decode after it, on the
// host: one definition for the trainer's masks and codes (SaeTrainer.cpp) and the tap's
// loss-recovered patch (ActivationTap.cpp). Same rule as src/core/sae/topKSae.ts.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

namespace icl {

// order[0..k) = the k largest of pre[0..latents), ties to the lower index.
inline void keepTopK(const float * pre, int latents, int k, std::vector<int> & order) {
    order.resize(latents);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [pre](int a, int b) { return pre[a] > pre[b] || (pre[a] == pre[b] && a < b); });
}

// out = bias + Σ over the kept latents j with pre[j] > 0 of pre[j] · column j; columns are
// [latents][width] (each latent's direction contiguous).
template <typename T>
void decodeKept(const float * pre, const std::vector<int> & order, int k, const float * columns, const float * bias, int width, T * out) {
    for (int d = 0; d < width; d++) out[d] = bias[d];
    for (int j = 0; j < k; j++) {
        const float v = pre[order[j]];
        if (v <= 0) continue;
        const float * column = columns + size_t(order[j]) * width;
        for (int d = 0; d < width; d++) out[d] += T(v) * column[d];
    }
}

}  // namespace icl
