namespace AlignCluster.Models;
