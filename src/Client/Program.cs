Console.WriteLine("aligncluster: not yet implemented");
return 1;
