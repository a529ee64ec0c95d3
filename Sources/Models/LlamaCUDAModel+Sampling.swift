import CUDABackend

extension LlamaCUDAModel: DeviceSampling {
    public func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow],
                                adjustments: [LogitAdjustment]) throws -> UnsafeBufferPointer<Int32> {
        guard rows.count == batch.logitsIndices.count else {
            throw CUDAError.unsupported("\(rows.count) sampling rows for \(batch.logitsIndices.count) logits rows")
        }
        let b = buffers
        try device.makeCurrent()
        try profiler?.beginStep()
        if try run(batch, sampling: rows, adjustments: adjustments), !rows.isEmpty {
            try device.copyAsync(to: b.hostSampledIDs, from: b.sampledIDs.address, bytes: rows.count * 4)
        }
        try device.synchronize()
        try profiler?.endStep(tokens: batch.tokenCount)
        return UnsafeBufferPointer(start: b.hostSampledIDs, count: rows.count)
    }

    public func executeSampling(_ batch: ForwardBatch, rows: [DeviceSamplingRow], maskedRows: [Int32],
                                prepare: (UnsafeMutableBufferPointer<UInt32>) -> [LogitAdjustment]) throws
        -> UnsafeBufferPointer<Int32>
    {
        guard !maskedRows.isEmpty else {
            return try executeSampling(batch, rows: rows, adjustments: prepare(UnsafeMutableBufferPointer(start: nil, count: 0)))
        }
        guard rows.count == batch.logitsIndices.count, maskedRows.count <= rows.count,
              maskedRows.allSatisfy({ $0 >= 0 && Int($0) < rows.count }) else {
            throw CUDAError.unsupported("\(maskedRows.count) masked rows of \(rows.count) sampling rows for \(batch.logitsIndices.count) logits rows")
        }
        let b = buffers
        let vocabulary = config.vocabularySize
        let words = (vocabulary + 31) / 32
        try device.makeCurrent()
        try profiler?.beginStep()
        let masks = try b.maskStorage(count: maskedRows.count, words: words, rows: rows.count, device: device)
        // The forward pass up to the logits (a decode step through its graph), queued first.
        if try run(batch, sampling: nil, adjustments: []) {
            let adjustments = prepare(masks)
            try b.uploadMaskedSampling(rows, maskRows: maskedRows, words: words, device: device)
            try b.uploadAdjustments(adjustments, device: device)
            if b.adjustmentCount > 0 {
                try kernels.adjustLogits(logits: b.logits.address, vocabulary: vocabulary, rows: b.adjustmentRows,
                                         tokens: b.adjustmentTokens, values: b.adjustmentValues,
                                         masks: b.adjustmentMasks, count: b.adjustmentCount)
            }
            try kernels.applyTokenMask(logits: b.logits.address, vocabulary: vocabulary, maskRows: b.maskRows,
                                       masks: b.tokenMasks, words: words, count: maskedRows.count)
            if rows.contains(where: \.filters) {
                try kernels.sampleFiltered(logits: b.logits.address, temperatures: b.temperatures, keys: b.samplingKeys,
                                           topKs: b.topKs, topPs: b.topPs, minPs: b.minPs, ids: b.sampledIDs.address,
                                           rows: rows.count, vocabulary: vocabulary)
            } else {
                try kernels.sample(logits: b.logits.address, temperatures: b.temperatures, keys: b.samplingKeys,
                                   candidates: b.samplingCandidates, ids: b.sampledIDs.address, rows: rows.count,
                                   vocabulary: vocabulary)
            }
            try device.copyAsync(to: b.hostSampledIDs, from: b.sampledIDs.address, bytes: rows.count * 4)
        }
        try device.synchronize()
        try profiler?.endStep(tokens: batch.tokenCount)
        return UnsafeBufferPointer(start: b.hostSampledIDs, count: rows.count)
    }
}
