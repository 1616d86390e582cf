Console.WriteLine("AlignCluster silo host: not yet implemented");
return 1;
