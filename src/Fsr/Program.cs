Console.WriteLine("fsr: the trainer lands with a later issue");
