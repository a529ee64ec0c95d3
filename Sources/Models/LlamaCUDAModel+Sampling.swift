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
}
