import Testing

@testable import EngineCore

/// Random mixes of add, abort and frontend stops under small KV pools, checking after every
/// step that blocks are accounted for exactly, and at the end that every request finished with
/// the tokens it would have generated alone.
struct SchedulerPropertyTests {
    @Test(arguments: 0 ..< 16 as Range<UInt64>)
    func randomWorkloadsKeepTheInvariants(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let blockSize = [1, 2, 4, 8].randomElement(using: &rng)!
        let maxModelLen = Int.random(in: 8 ... 40, using: &rng)
        let numBlocks = (maxModelLen + blockSize - 1) / blockSize + 1 + Int.random(in: 0 ... 10, using: &rng)
        let config = SchedulerConfig(
            maxNumSeqs: Int.random(in: 1 ... 6, using: &rng),
            maxNumBatchedTokens: Int.random(in: 1 ... 48, using: &rng),
            maxModelLen: maxModelLen, blockSize: blockSize, numBlocks: numBlocks,
            enablePrefixCaching: seed % 4 != 0,
            longPrefillTokenThreshold: Bool.random(using: &rng) ? Int.random(in: 1 ... 16, using: &rng) : nil)
        let harness = try SchedulerHarness(config: config)
        let scheduler = harness.scheduler

        // A few shared prefixes so that the prefix cache gets hits.
        let prefixes: [[Int32]] = (0 ..< 3).map { _ in
            (0 ..< Int.random(in: 0 ... 12, using: &rng)).map { _ in Int32.random(in: 1 ... 9, using: &rng) }
        }
        var references: [String: (tokens: [Int32], reason: FinishReason)] = [:]
        var cutShort: Set<String> = []
        var live: [String] = []

        for step in 0 ..< 300 {
            if step < 200 && Double.random(in: 0 ..< 1, using: &rng) < 0.4 {
                let id = "s\(seed)-r\(references.count)-\(step)"
                let prefix = prefixes.randomElement(using: &rng)!.prefix(maxModelLen - 2)
                let tail = (0 ..< Int.random(in: 1 ... 8, using: &rng)).map { _ in Int32.random(in: 1 ... 60, using: &rng) }
                let prompt = Array((prefix + tail).prefix(maxModelLen - 1))
                let room = maxModelLen - prompt.count
                let params = SamplingParams(
                    temperature: 0, stopTokenIDs: Bool.random(using: &rng) ? [5] : [],
                    ignoreEOS: Bool.random(using: &rng), maxTokens: Int.random(in: 1 ... room, using: &rng),
                    minTokens: Int.random(in: 0 ... 2, using: &rng))
                try harness.add(id, prompt: prompt, params: params, priority: Int.random(in: 0 ... 2, using: &rng))
                references[id] = referenceGeneration(
                    prompt: prompt, params: params, eos: [FakeModel.eos], maxModelLen: maxModelLen)
                live.append(id)
            }
            if !live.isEmpty && Double.random(in: 0 ..< 1, using: &rng) < 0.05 {
                let id = live.randomElement(using: &rng)!
                harness.record(scheduler.abort([id]))
                cutShort.insert(id)
            }
            if !live.isEmpty && Double.random(in: 0 ..< 1, using: &rng) < 0.05 {
                let id = live.randomElement(using: &rng)!
                if let update = scheduler.finish(id, reason: .stop) {
                    harness.record([update])
                    cutShort.insert(id)
                }
            }
            try harness.step()
            live.removeAll { harness.finishReasons[$0] != nil }
            try checkInvariants(harness, live: live)
        }
        try harness.runToCompletion()
        try checkInvariants(harness, live: [])

        #expect(scheduler.kvCacheManager.numFreeBlocks == numBlocks - 1, "blocks leaked")
        #expect(scheduler.numRunning == 0 && scheduler.numWaiting == 0)
        for (id, reference) in references {
            let reason = try #require(harness.finishReasons[id], "\(id) never finished")
            let output = harness.outputs[id] ?? []
            if cutShort.contains(id) {
                #expect(reference.tokens.starts(with: output), "\(id) generated other tokens than alone")
            } else {
                #expect(output == reference.tokens, "\(id) generated other tokens than alone")
                #expect(reason == reference.reason)
            }
        }
    }

    /// Every block's reference count equals the number of live block tables holding it; free
    /// blocks are exactly those at zero; blocks in two tables are prefix-cache blocks.
    private func checkInvariants(_ harness: SchedulerHarness, live: [String]) throws {
        let scheduler = harness.scheduler
        let manager = scheduler.kvCacheManager
        let blockSize = scheduler.config.blockSize
        var holders = [Int](repeating: 0, count: manager.numBlocks)
        var numRunning = 0
        for id in live {
            let request = try #require(scheduler.request(id), "\(id) is live but unknown to the scheduler")
            let blocks = manager.blocks(of: id)
            #expect(Set(blocks.map(\.id)).count == blocks.count, "a block appears twice in \(id)'s table")
            switch request.status {
            case .running:
                numRunning += 1
                #expect(blocks.count * blockSize >= request.numComputedTokens)
            case .waiting, .preempted:
                #expect(blocks.isEmpty, "\(id) waits while holding blocks")
                #expect(request.numComputedTokens == 0)
            case .finished:
                Issue.record("\(id) is finished but still known")
            }
            for block in blocks { holders[Int(block.id)] += 1 }
        }
        #expect(numRunning == scheduler.numRunning)
        #expect(scheduler.numRunning + scheduler.numWaiting == live.count)

        let pool = manager.pool
        #expect(pool.nullBlock.refCount == 0 && !pool.nullBlock.isInFreeQueue && holders[0] == 0)
        var numFree = 0
        for block in pool.blocks.dropFirst() {
            #expect(block.refCount >= 0)
            #expect(Int(block.refCount) == holders[Int(block.id)], "block \(block.id) has a wrong reference count")
            #expect(block.isInFreeQueue == (block.refCount == 0))
            if block.refCount == 0 { numFree += 1 }
            if holders[Int(block.id)] > 1 {
                #expect(block.hash != nil, "block \(block.id) is shared without being a prefix-cache block")
            }
        }
        #expect(numFree == manager.numFreeBlocks)
    }
}
