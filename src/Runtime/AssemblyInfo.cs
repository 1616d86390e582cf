namespace AlignCluster.Runtime;
