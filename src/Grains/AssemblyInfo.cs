namespace AlignCluster.Grains;
