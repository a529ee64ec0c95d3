import EngineCore
import Foundation

extension AsyncEngine {
    /// The loop: take queued adds and aborts, run a step, hand out its deltas, publish stats.
    func loop() {
        while true {
            condition.lock()
            while pendingAdds.isEmpty && pendingAborts.isEmpty && pendingStops.isEmpty
                    && !engine.hasUnfinishedRequests && !stopping {
                snapshot.lastHeartbeat = .now
                condition.wait()
            }
            let adds = pendingAdds
            let aborts = pendingAborts
            let stops = pendingStops
            pendingAdds.removeAll()
            pendingAborts.removeAll()
            pendingStops.removeAll()
            let exit = stopping && adds.isEmpty && !engine.hasUnfinishedRequests
            condition.unlock()
            if exit { break }

            for (request, continuation) in adds {
                do {
                    try engine.add(Request(requestID: request.requestID, promptTokenIDs: request.promptTokenIDs,
                                           samplingParams: request.params, eosTokenIDs: eosTokenIDs,
                                           priority: request.priority, arrivalTime: request.arrivalTime),
                                   grammar: request.grammar)
                    streams[request.requestID] = continuation
                    arrivals[request.requestID] = request.arrivalTime
                    promptTokensTotal += request.promptTokenIDs.count
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            for update in engine.abort(aborts) {
                streams.removeValue(forKey: update.requestID)?.finish()
                arrivals[update.requestID] = nil
                queueTimes[update.requestID] = nil
            }
            for requestID in stops {
                _ = engine.finish(requestID, reason: .stop)
                streams.removeValue(forKey: requestID)?.finish()
            }
            guard engine.hasUnfinishedRequests else {
                publishStats()
                continue
            }
            do {
                let stepStart = ContinuousClock.now
                let result = try engine.step()
                preemptionsTotal += result.preemptions
                if result.scheduledTokens > 0 {
                    let bucket = EngineStats.iterationTokenBounds.firstIndex { result.scheduledTokens <= $0 }
                        ?? EngineStats.iterationTokenBounds.count
                    iterationTokenCounts[bucket] += 1
                    iterationTokensSum += result.scheduledTokens
                }
                for requestID in result.scheduledRequestIDs {
                    if let arrival = arrivals.removeValue(forKey: requestID) { queueTimes[requestID] = stepStart - arrival }
                }
                deliver(result)
            } catch {
                logger.error("engine step failed; failing all requests", metadata: ["error": "\(error)"])
                fail(error)
                return
            }
            publishStats()
        }
        condition.lock()
        snapshot.isAlive = false
        let waiters = shutdownWaiters
        shutdownWaiters.removeAll()
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    private func deliver(_ result: StepResult) {
        var prompt = result.promptLogprobs
        for update in result.updates {
            generationTokensTotal += update.newTokenIDs.count
            guard let stream = streams[update.requestID] else { continue }
            stream.yield(Delta(tokens: update.newTokenIDs, logprob: result.logprobs[update.requestID],
                               promptLogprobs: prompt.removeValue(forKey: update.requestID),
                               finishReason: update.finishReason, cachedTokens: update.numCachedTokens,
                               queueTime: queueTimes.removeValue(forKey: update.requestID)))
            if update.isFinished { streams.removeValue(forKey: update.requestID)?.finish() }
        }
        // Prompt chunks that sampled nothing yet (partial prefill) still carry logprobs.
        for (requestID, chunk) in prompt {
            streams[requestID]?.yield(Delta(tokens: [], promptLogprobs: chunk, cachedTokens: 0))
        }
    }

    private func fail(_ error: any Error) {
        for (_, stream) in streams { stream.finish(throwing: error) }
        streams.removeAll()
        condition.lock()
        snapshot.isAlive = false
        accepting = false
        let adds = pendingAdds
        pendingAdds.removeAll()
        let waiters = shutdownWaiters
        shutdownWaiters.removeAll()
        condition.unlock()
        for (_, continuation) in adds { continuation.finish(throwing: error) }
        for waiter in waiters { waiter.resume() }
    }

    private func publishStats() {
        let scheduler = engine.scheduler
        let cache = scheduler.kvCacheManager
        condition.lock()
        snapshot.runningRequests = scheduler.numRunning
        snapshot.waitingRequests = scheduler.numWaiting
        snapshot.kvCacheUsage = cache.usage
        snapshot.prefixCacheQueries = cache.prefixCacheStats.queriedTokens
        snapshot.prefixCacheHits = cache.prefixCacheStats.hitTokens
        snapshot.promptTokensTotal = promptTokensTotal
        snapshot.generationTokensTotal = generationTokensTotal
        snapshot.steps += 1
        snapshot.preemptionsTotal = preemptionsTotal
        snapshot.iterationTokenCounts = iterationTokenCounts
        snapshot.iterationTokensSum = iterationTokensSum
        let config = scheduler.config
        snapshot.blockSize = config.blockSize
        snapshot.numBlocks = config.numBlocks
        snapshot.maxNumSeqs = config.maxNumSeqs
        snapshot.maxNumBatchedTokens = config.maxNumBatchedTokens
        snapshot.enablePrefixCaching = config.enablePrefixCaching
        snapshot.speculative = engine.speculativeStats
        snapshot.lastHeartbeat = .now
        condition.unlock()
    }
}
