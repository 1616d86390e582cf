using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("AlignCluster.Runtime.Tests")]
[assembly: InternalsVisibleTo("AlignCluster.Runtime.Bench")]

namespace AlignCluster.Runtime;
