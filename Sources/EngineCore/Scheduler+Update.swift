extension Scheduler {
    /// Applies a step's results: advances each scheduled request past the tokens it fed,
    /// appends sampled tokens, and ends requests whose stop conditions hold (EOS unless
    /// `ignoreEOS`, stop token ids, both only after `minTokens`; then `maxTokens` and
    /// `maxModelLen`), freeing their blocks.
    ///
    /// - Parameters:
    ///   - output: the latest `schedule()` result, applied exactly once.
    ///   - sampled: the tokens sampled for each request whose `samples` was true (one each,
    ///     or several; tokens after a stop are dropped). A request that fed drafts gets the
    ///     drafts its sampling accepted, in order, then one more token (at most drafts + 1);
    ///     the rejected drafts are rolled back. Requests aborted since `schedule()` are skipped.
    /// - Returns: one update per request that generated tokens or finished, in batch order.
    /// - Throws: `SchedulerError.staleOutput` or `.missingSampledTokens`, before changing anything.
    public func update(_ output: SchedulerOutput, sampled: [String: [Int32]]) throws -> [RequestUpdate] {
        for item in output.requests {
            guard let request = request(item.requestID), request.status == .running else { continue }
            guard request.numComputedTokens == item.startPosition else {
                throw SchedulerError.staleOutput(
                    requestID: item.requestID, expectedPosition: request.numComputedTokens,
                    outputPosition: item.startPosition)
            }
            if item.samples && (sampled[item.requestID]?.isEmpty ?? true) {
                throw SchedulerError.missingSampledTokens(requestID: item.requestID)
            }
            let numDrafts = item.draftTokenIDs.count
            if numDrafts > 0, let given = sampled[item.requestID]?.count, given > numDrafts + 1 {
                throw SchedulerError.tooManySampledTokens(requestID: item.requestID, given: given, drafts: numDrafts)
            }
        }

        var updates: [RequestUpdate] = []
        var anyFinished = false
        for item in output.requests {
            guard let request = request(item.requestID), request.status == .running,
                  request.numComputedTokens == item.startPosition
            else { continue }
            request.numComputedTokens += item.numScheduledTokens
            request.draftTokenIDs = []

            var newTokenIDs: [Int32] = []
            var reason: FinishReason?
            if item.samples, let tokens = sampled[item.requestID] {
                var numAccepted = 0
                for token in tokens {
                    request.appendOutputToken(token)
                    numAccepted += 1
                    reason = request.stopReason(maxModelLen: config.maxModelLen)
                    if reason != nil { break }
                }
                newTokenIDs = numAccepted == tokens.count ? tokens : Array(tokens.prefix(numAccepted))
            }

            if let reason {
                finishRequest(request, reason: reason)
                anyFinished = true
            } else if !item.draftTokenIDs.isEmpty {
                // The rejected drafts' K/V are not the sequence's: roll them back, and free
                // the blocks that held nothing else.
                let numRejected = item.draftTokenIDs.count - (newTokenIDs.count - 1)
                request.numComputedTokens -= numRejected
                kvCacheManager.trimSlots(request, keepingTokens: request.numTokens)
            }
            if !newTokenIDs.isEmpty || reason != nil {
                updates.append(
                    RequestUpdate(
                        requestID: item.requestID, newTokenIDs: newTokenIDs, finishReason: reason,
                        numCachedTokens: request.numCachedTokens ?? 0))
            }
        }
        if anyFinished { removeFinishedFromRunning() }
        return updates
    }
}
