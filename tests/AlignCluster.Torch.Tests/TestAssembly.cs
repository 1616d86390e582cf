// Tests here seed and draw from libtorch's global generator (dropout gradient checks, seeding tests) and measure
// process RSS; running classes in parallel would let one test's draws or allocations disturb another's.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
