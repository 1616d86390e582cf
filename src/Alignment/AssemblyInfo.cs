namespace AlignCluster.Alignment;
