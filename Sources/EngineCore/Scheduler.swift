/// Decides, step by step, which requests run and how many tokens each feeds (vLLM v1's
/// scheduler, without prefill and decode phases).
///
/// Each step first serves the running requests in order, each getting its remaining tokens
/// (1 for a decode, the rest of a prompt for a chunked prefill) within the token budget; then,
/// if nobody was preempted, admits waiting requests in (priority, arrival) order while the
/// budget, `maxNumSeqs` and free blocks allow, starting each after its prefix-cache hits. A
/// prompt longer than the budget left is split into chunks over several steps. When a running
/// request cannot get blocks, the lowest-priority, newest running request is preempted (its
/// blocks freed, its tokens to be recomputed) until it can, possibly the request itself; the
/// preempted request waits in its (priority, arrival) place, ahead of newer arrivals.
///
/// Not thread-safe: one engine thread calls `add`, `abort`, `finish`, then `schedule()` and
/// `update(_:sampled:)` once per step, in that order.
public final class Scheduler {
    public let config: SchedulerConfig
    public let kvCacheManager: KVCacheManager

    /// Unfinished requests by id.
    private var requests: [String: Request] = [:]
    private var waiting = WaitingQueue()
    /// Requests holding blocks, in the order they were admitted.
    private(set) var running: [Request] = []
    /// Requests finished since the last `schedule()`.
    private var finishedRequestIDs: [String] = []
    private var nextSequenceNumber: UInt64 = 1

    /// - Throws: `SchedulerError.invalidConfiguration` when a limit is out of range or one
    ///   sequence of `maxModelLen` tokens does not fit in the KV pool.
    public convenience init(config: SchedulerConfig) throws {
        try self.init(config: config, hashFunction: BlockHash.init(parent:tokenIDs:salt:))
    }

    /// - Parameter hashFunction: replaced only by tests that force hash collisions.
    init(config: SchedulerConfig, hashFunction: @escaping BlockHashFunction) throws {
        try config.validate()
        self.config = config
        kvCacheManager = KVCacheManager(
            blockSize: config.blockSize, numBlocks: config.numBlocks,
            enablePrefixCaching: config.enablePrefixCaching, hashFunction: hashFunction)
    }

    /// Requests waiting to be admitted (new or preempted).
    public var numWaiting: Int { waiting.count }
    /// Requests holding KV blocks.
    public var numRunning: Int { running.count }
    public var hasUnfinishedRequests: Bool { !requests.isEmpty }

    /// An unfinished request, for reading its tokens on the scheduler's thread.
    public func request(_ requestID: String) -> Request? {
        requests[requestID]
    }

    /// Queues a new request.
    ///
    /// - Throws: `SchedulerError` when the id is in use, the request was added before, the
    ///   prompt is empty, or prompt plus `maxTokens` exceeds `maxModelLen` (such a request
    ///   could never finish, so it is refused rather than left waiting).
    public func add(_ request: Request) throws {
        let id = request.requestID
        guard requests[id] == nil else { throw SchedulerError.duplicateRequestID(id) }
        guard request.sequenceNumber == 0, request.status == .waiting else {
            throw SchedulerError.alreadyAdded(requestID: id)
        }
        guard request.numPromptTokens > 0 else { throw SchedulerError.emptyPrompt(requestID: id) }
        let maxTokens = request.samplingParams.maxTokens
        // Subtracted, not added: maxTokens may be as large as Int.max.
        guard max(maxTokens ?? 1, 1) <= config.maxModelLen - request.numPromptTokens else {
            throw SchedulerError.exceedsMaxModelLen(
                requestID: id, promptTokens: request.numPromptTokens, maxTokens: maxTokens,
                maxModelLen: config.maxModelLen)
        }
        request.sequenceNumber = nextSequenceNumber
        nextSequenceNumber += 1
        requests[id] = request
        waiting.push(request)
    }

    /// Cancels requests wherever they are; their blocks are freed at once. Unknown or already
    /// finished ids are ignored.
    /// - Returns: one update with reason `.abort` per request cancelled.
    @discardableResult
    public func abort<IDs: Sequence>(_ requestIDs: IDs) -> [RequestUpdate] where IDs.Element == String {
        var updates: [RequestUpdate] = []
        for id in requestIDs {
            if let update = finish(id, reason: .abort) { updates.append(update) }
        }
        return updates
    }

    /// Ends a request for a reason found outside the scheduler (the frontend's stop strings).
    /// Call between steps. Returns nil if the request is unknown or already finished.
    @discardableResult
    public func finish(_ requestID: String, reason: FinishReason) -> RequestUpdate? {
        guard let request = requests[requestID] else { return nil }
        let wasRunning = request.status == .running
        finishRequest(request, reason: reason)
        if wasRunning { running.removeAll { $0 === request } }
        return RequestUpdate(
            requestID: requestID, newTokenIDs: [], finishReason: reason,
            numCachedTokens: request.numCachedTokens ?? 0)
    }

    /// Builds the next step's batch.
    public func schedule() -> SchedulerOutput {
        var budget = config.maxNumBatchedTokens
        var scheduled: [(request: Request, numTokens: Int)] = []
        var preempted: [String] = []

        var index = 0
        while index < running.count && budget > 0 {
            let request = running[index]
            // A decode feeds its drafts too, as far as the budget goes.
            let numDrafts = request.isDecoding ? min(request.draftTokenIDs.count, budget - 1) : 0
            let numNew = numTokensToSchedule(request, from: request.numComputedTokens, budget: budget) + numDrafts
            guard numNew > 0 else {
                index += 1
                continue
            }
            var preemptedItself = false
            while !kvCacheManager.allocateSlots(request, numNewTokens: numNew) {
                let victimIndex = preemptionVictimIndex()
                let victim = running.remove(at: victimIndex)
                if let slot = scheduled.firstIndex(where: { $0.request === victim }) {
                    budget += scheduled.remove(at: slot).numTokens
                }
                preempt(victim)
                preempted.append(victim.requestID)
                if victim === request {
                    preemptedItself = true
                    break
                }
                if victimIndex < index { index -= 1 }
            }
            // After preempting itself, the next running request has moved into `index`.
            guard !preemptedItself else { continue }
            if numDrafts < request.draftTokenIDs.count { request.draftTokenIDs.removeLast(request.draftTokenIDs.count - numDrafts) }
            scheduled.append((request, numNew))
            budget -= numNew
            index += 1
        }
        // Cached only now: a request preempted above after being scheduled never computes its
        // new blocks, so they must not have entered the cache. Drafts never enter it: the cap
        // at the request's known tokens leaves them out until they are accepted.
        for (request, numTokens) in scheduled {
            kvCacheManager.cacheFullBlocks(of: request, numTokens: request.numComputedTokens + numTokens)
        }

        // As in vLLM: a step that had to preempt admits nobody new.
        while preempted.isEmpty && budget > 0 && running.count < config.maxNumSeqs, let request = waiting.first() {
            let (hits, numHitTokens) = kvCacheManager.computedBlocks(for: request)
            let numNew = numTokensToSchedule(request, from: numHitTokens, budget: budget)
            guard kvCacheManager.allocateSlots(request, numNewTokens: numNew, newComputedBlocks: hits) else { break }
            _ = waiting.popFirst()
            kvCacheManager.recordLookup(numQueriedTokens: request.numTokens, numHitTokens: numHitTokens)
            request.numComputedTokens = numHitTokens
            if request.numCachedTokens == nil { request.numCachedTokens = numHitTokens }
            request.status = .running
            kvCacheManager.cacheFullBlocks(of: request, numTokens: numHitTokens + numNew)
            running.append(request)
            scheduled.append((request, numNew))
            budget -= numNew
        }

        return makeOutput(scheduled, preempted: preempted)
    }

    /// Tokens a request gets this step, starting at `start`: the rest of its known tokens,
    /// capped by the budget left and the long-prefill threshold.
    private func numTokensToSchedule(_ request: Request, from start: Int, budget: Int) -> Int {
        var count = min(request.numTokens - start, budget)
        if let threshold = config.longPrefillTokenThreshold { count = min(count, threshold) }
        return count
    }

    /// Running requests in the order they were admitted (for the engine's proposers).
    public var runningRequests: [Request] { running }

    /// Sets the draft tokens of a running request that decodes, for the next `schedule()` to
    /// feed after its last token (speculative decoding). Drafts are cut so that the request's
    /// known tokens and all its drafts stay within `maxModelLen` and, when accepted, within
    /// its `maxTokens`. Other requests are left alone.
    /// - Returns: the drafts kept.
    @discardableResult
    public func setDraftTokens(_ requestID: String, _ draftTokenIDs: [Int32]) -> Int {
        guard let request = requests[requestID], request.isDecoding else { return 0 }
        // Each accepted draft is an output token, and one more token follows the last of them.
        var room = config.maxModelLen - request.numTokens - 1
        if let maxTokens = request.samplingParams.maxTokens {
            room = min(room, maxTokens - request.numOutputTokens - 1)
        }
        let kept = max(0, min(draftTokenIDs.count, room))
        request.draftTokenIDs = Array(draftTokenIDs.prefix(kept))
        return kept
    }

    /// The running request every other one precedes: lowest priority, then newest.
    private func preemptionVictimIndex() -> Int {
        var victim = 0
        for index in running.indices.dropFirst() where running[victim].precedes(running[index]) {
            victim = index
        }
        return victim
    }

    private func preempt(_ request: Request) {
        kvCacheManager.free(request)
        request.draftTokenIDs = []
        request.status = .preempted
        request.numComputedTokens = 0
        request.numPreemptions += 1
        waiting.push(request)
    }

    /// Marks a request finished and frees its blocks; the caller removes it from `running`.
    func finishRequest(_ request: Request, reason: FinishReason) {
        if request.status == .waiting || request.status == .preempted { waiting.noteRemoved() }
        request.status = .finished(reason)
        kvCacheManager.free(request)
        requests[request.requestID] = nil
        finishedRequestIDs.append(request.requestID)
    }

    func removeFinishedFromRunning() {
        running.removeAll { $0.isFinished }
    }

    private func makeOutput(_ scheduled: [(request: Request, numTokens: Int)], preempted: [String]) -> SchedulerOutput {
        var items: [SchedulerOutput.ScheduledRequest] = []
        items.reserveCapacity(scheduled.count)
        var tokenIDs: [Int32] = []
        tokenIDs.reserveCapacity(scheduled.reduce(0) { $0 + $1.numTokens })
        for (request, numTokens) in scheduled {
            let start = request.numComputedTokens
            let drafts = request.status == .running && start + numTokens > request.numTokens ? request.draftTokenIDs : []
            let numKnown = numTokens - drafts.count
            items.append(
                SchedulerOutput.ScheduledRequest(
                    requestID: request.requestID, tokenOffset: tokenIDs.count, numScheduledTokens: numTokens,
                    startPosition: start, blockTable: kvCacheManager.blockIDs(of: request.requestID),
                    samples: start + numKnown == request.numTokens, samplingParams: request.samplingParams,
                    numOutputTokens: request.numOutputTokens, draftTokenIDs: drafts))
            tokenIDs.append(contentsOf: request.allTokenIDs[start ..< start + numKnown])
            tokenIDs.append(contentsOf: drafts)
        }
        let finished = finishedRequestIDs
        finishedRequestIDs.removeAll(keepingCapacity: true)
        return SchedulerOutput(
            requests: items, tokenIDs: tokenIDs, preemptedRequestIDs: preempted, finishedRequestIDs: finished)
    }
}
