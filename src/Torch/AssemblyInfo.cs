namespace AlignCluster.Torch;
