#include "ActivationTap.h"

#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <vector>

#include "LlamaApi.h"
#include "SparseCode.h"

namespace icl {

ActivationTap::ActivationTap(std::string tensorPrefix, int nLayer, int nEmbd)
    : tensorPrefix_(std::move(tensorPrefix)), nLayer_(nLayer), nEmbd_(nEmbd) {}

bool ActivationTap::callback(struct ggml_tensor * tensor, bool ask, void * userData) {
    auto * tap = static_cast<ActivationTap *>(userData);
    if (!tap->layout_) return !ask;  // not inside one of our decodes (e.g. graph reservation)
    int layer = -1;
    if (ask) {
        if (!tap->layout_->capture || !tap->wants(tensor, layer) || tap->requested_[layer]) return false;
        // The first node with this name in a layer is the MLP's own output; in `llama` the
        // residual sum after it may carry the same name (see src/core/sites.ts).
        tap->requested_[layer] = 1;
        return true;
    }
    if (!tap->wants(tensor, layer) || tap->captured_[layer]) return true;
    return tap->observe(tensor, layer);
}

bool ActivationTap::wants(const struct ggml_tensor * tensor, int & layer) const {
    const size_t n = tensorPrefix_.size();
    if (std::strncmp(tensor->name, tensorPrefix_.c_str(), n) != 0 || tensor->name[n] != '-') return false;
    const char * digits = tensor->name + n + 1;
    if (*digits < '0' || *digits > '9') return false;
    char * end = nullptr;
    const long value = std::strtol(digits, &end, 10);
    if (*end != '\0' || value < 0 || value >= nLayer_) return false;
    layer = int(value);
    return true;
}

bool ActivationTap::observe(struct ggml_tensor * tensor, int layer) {
    captured_[layer] = 1;
    const ChunkLayout & layout = *layout_;
    const size_t rows = size_t(tensor->ne[1]);
    if (tensor->type != GGML_TYPE_F32 || tensor->ne[0] != nEmbd_ || tensor->nb[0] != sizeof(float) ||
        tensor->ne[2] != 1 || tensor->ne[3] != 1) {
        error_ = "tensor " + std::string(tensor->name) + " is not a float32 [tokens, n_embd] matrix";
        return false;
    }
    // Map rows to window tokens explicitly: all chunk tokens, or the chunk's outputs when the
    // graph pruned this layer to output rows.
    const bool allTokens = rows == layout.count;
    if (!allTokens && rows != layout.outputTokens.size()) {
        error_ = "tensor " + std::string(tensor->name) + " has " + std::to_string(rows) + " rows; expected " +
                 std::to_string(layout.count) + " tokens or " + std::to_string(layout.outputTokens.size()) + " outputs";
        return false;
    }

    const size_t rowStride = tensor->nb[1];
    const auto & api = llamaApi();
    const char * base = nullptr;
    if (tensor->buffer && !api.backend_buffer_is_host(tensor->buffer)) {
        const size_t bytes = rows == 0 ? 0 : (rows - 1) * rowStride + sizeof(float) * nEmbd_;
        hostCopy_.resize(bytes / sizeof(float) + 1);
        api.backend_tensor_get(tensor, hostCopy_.data(), 0, bytes);
        base = reinterpret_cast<const char *>(hostCopy_.data());
    } else {
        base = static_cast<const char *>(tensor->data);
    }

    for (size_t r = 0; r < rows; r++) {
        const size_t token = allTokens ? layout.start + r : layout.outputTokens[r];
        const TokenRoute & route = (*routes_)[token];
        if (route.span < 0) continue;
        const size_t spanLength = size_t((*spanLengths_)[route.span]);
        float * dst = (*spanBuffers_)[route.span].data() + (size_t(layer) * spanLength + size_t(route.row)) * nEmbd_;
        std::memcpy(dst, base + r * rowStride, sizeof(float) * nEmbd_);
    }
    if (patch_ && patch_->layer == layer) applyPatch(tensor, base, rows, allTokens);
    // Returning false ends the graph computation early: everything after the last layer's MLP
    // (final norm, lm_head over the whole vocabulary) is work extraction does not need.
    return !(layout.stopAfterLastLayer && layer == nLayer_ - 1);
}

void ActivationTap::applyPatch(struct ggml_tensor * tensor, const char * base, size_t rows, bool allTokens) {
    const ActivationPatch & p = *patch_;
    const size_t rowStride = tensor->nb[1];
    const auto & api = llamaApi();
    const bool host = !tensor->buffer || api.backend_buffer_is_host(tensor->buffer);
    std::vector<float> scaled(nEmbd_), reconstruction(nEmbd_), pre(p.zero ? 0 : p.latents);
    std::vector<int> order(p.zero ? 0 : p.latents);
    for (size_t r = 0; r < rows; r++) {
        const size_t token = allTokens ? layout_->start + r : layout_->outputTokens[r];
        if ((*routes_)[token].span < 0) continue;
        const float * x = reinterpret_cast<const float *>(base + r * rowStride);
        if (p.zero) {
            std::fill(reconstruction.begin(), reconstruction.end(), 0.0f);
        } else {
            for (int d = 0; d < nEmbd_; d++) scaled[d] = x[d] * p.scale - p.decoderBias[d];
            for (int i = 0; i < p.latents; i++) {
                const float * row = p.encoder.data() + size_t(i) * nEmbd_;
                float sum = p.encoderBias[i];
                for (int d = 0; d < nEmbd_; d++) sum += row[d] * scaled[d];
                pre[i] = sum;
            }
            keepTopK(pre.data(), p.latents, p.k, order);
            decodeKept(pre.data(), order, p.k, p.decoderColumns.data(), p.decoderBias.data(), nEmbd_, reconstruction.data());
            for (int d = 0; d < nEmbd_; d++) reconstruction[d] /= p.scale;
        }
        if (host) {
            std::memcpy(static_cast<char *>(tensor->data) + r * rowStride, reconstruction.data(), sizeof(float) * nEmbd_);
        } else {
            api.backend_tensor_set(tensor, reconstruction.data(), r * rowStride, sizeof(float) * nEmbd_);
        }
    }
}

void ActivationTap::beginChunk(const ChunkLayout & layout, const std::vector<TokenRoute> & routes,
                               std::vector<std::vector<float>> & spanBuffers, const std::vector<int32_t> & spanLengths) {
    layout_ = &layout;
    routes_ = &routes;
    spanBuffers_ = &spanBuffers;
    spanLengths_ = &spanLengths;
    requested_.assign(nLayer_, 0);
    captured_.assign(nLayer_, 0);
    error_.clear();
}

std::string ActivationTap::endChunk(const std::string & architecture) {
    const bool captured = layout_ && layout_->capture;
    layout_ = nullptr;
    if (!error_.empty()) return error_;
    if (!captured) return std::string();
    int seen = 0;
    int firstMissing = -1;
    for (int l = 0; l < nLayer_; l++) {
        if (captured_[l]) seen++;
        else if (firstMissing < 0) firstMissing = l;
    }
    if (seen == 0) {
        return "the graph of architecture \"" + architecture + "\" has no \"" + tensorPrefix_ +
               "-<layer>\" tensors, so its MLP outputs cannot be captured";
    }
    if (seen < nLayer_) {
        return "architecture \"" + architecture + "\": no \"" + tensorPrefix_ + "-" + std::to_string(firstMissing) +
               "\" tensor in the graph (" + std::to_string(seen) + " of " + std::to_string(nLayer_) + " layers captured)";
    }
    return std::string();
}

}  // namespace icl
