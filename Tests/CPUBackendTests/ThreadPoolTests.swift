import CTernKernels
import Testing

/// tern_pool_run: every task runs exactly once per job, jobs do not bleed into each other,
/// and pools start and stop cleanly.
@Suite struct ThreadPoolTests {
    /// Context of a job: its number and where each task writes.
    struct Job {
        var run: Int
        var out: UnsafeMutablePointer<Int>
    }

    static let writeTask: tern_task_fn = { ctx, task, nTasks in
        let job = ctx!.assumingMemoryBound(to: Job.self).pointee
        job.out[Int(task)] = job.run * Int(nTasks) + Int(task) + 1
    }

    /// Runs `runs` jobs of `tasks` tasks; returns how many outputs were wrong.
    static func runJobs(_ pool: OpaquePointer?, runs: Int, tasks: Int) -> Int {
        let out = UnsafeMutablePointer<Int>.allocate(capacity: tasks)
        defer { out.deallocate() }
        var job = Job(run: 0, out: out)
        var wrong = 0
        for run in 0..<runs {
            job.run = run
            withUnsafeMutablePointer(to: &job) { tern_pool_run(pool, writeTask, $0, Int32(tasks)) }
            for task in 0..<tasks where out[task] != run * tasks + task + 1 { wrong += 1 }
        }
        return wrong
    }

    @Test(arguments: [2, 4])
    func manyTinyJobsInARow(threads: Int) throws {
        let pool = try #require(tern_pool_create(Int32(threads)))
        defer { tern_pool_destroy(pool) }
        #expect(tern_pool_threads(pool) == Int32(threads))
        #expect(Self.runJobs(pool, runs: 10_000, tasks: 8) == 0)
    }

    @Test func largeAndDegenerateTaskCounts() throws {
        let pool = try #require(tern_pool_create(3))
        defer { tern_pool_destroy(pool) }
        #expect(Self.runJobs(pool, runs: 3, tasks: 100_000) == 0)
        #expect(Self.runJobs(pool, runs: 50, tasks: 1) == 0)
        #expect(Self.runJobs(nil, runs: 5, tasks: 17) == 0)
        #expect(tern_pool_threads(nil) == 1)
        // No task for n_tasks = 0: the output keeps its sentinel.
        var sentinel = -7
        withUnsafeMutablePointer(to: &sentinel) { out in
            var job = Job(run: 0, out: out)
            withUnsafeMutablePointer(to: &job) { tern_pool_run(pool, Self.writeTask, $0, 0) }
        }
        #expect(sentinel == -7)
    }

    @Test func createAndDestroyRepeatedly() throws {
        for i in 0..<200 {
            let pool = try #require(tern_pool_create(Int32(1 + i % 4)))
            if i % 2 == 0 { #expect(Self.runJobs(pool, runs: 3, tasks: 16) == 0) }
            tern_pool_destroy(pool)
        }
    }

    /// A worker that has slept (past its spin window) wakes for the next job.
    @Test func workersWakeAfterSleeping() async throws {
        let pool = try #require(tern_pool_create(2))
        defer { tern_pool_destroy(pool) }
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(5))
            #expect(Self.runJobs(pool, runs: 2, tasks: 64) == 0)
        }
    }
}
