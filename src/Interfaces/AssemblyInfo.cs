namespace AlignCluster.Interfaces;
